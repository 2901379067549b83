// Build the browser bundles and the type declarations.
//
//     node scripts/build.js            -> dist/, then copies the bundles to ../sidegears/static/
//     node scripts/build.js OUT_DIR    -> OUT_DIR/ only (used by check-dist)
//
// The output depends only on src/ and the locked devDependencies, so CI can
// rebuild and compare it byte for byte with what is committed.

import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';
import { syncStatic } from './sync-static.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = (name) => path.join(root, 'src', name);
const { version, license } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const banner = `/*! sidegears ${version} | ${license} */`;

/**
 * What `import ... from 'vue'` is in the UMD plugin: the page's global `Vue`,
 * looked up at each call, so that the two scripts may load in either order.
 * Without a global Vue the plugin still installs (on an app-like object),
 * unreactive, as it did before it imported Vue.
 */
const GLOBAL_VUE = `
const vue = () => globalThis.Vue || {};
export const reactive = (target) => (vue().reactive ? vue().reactive(target) : target);
export const inject = (key, defaultValue) => (vue().inject ? vue().inject(key, defaultValue) : defaultValue);
export const hasInjectionContext = () => Boolean(vue().hasInjectionContext && vue().hasInjectionContext());
export const getCurrentScope = () => (vue().getCurrentScope ? vue().getCurrentScope() : undefined);
export const onScopeDispose = (fn) => vue().onScopeDispose && vue().onScopeDispose(fn);
`;

/** A rollup plugin that resolves 'vue' to GLOBAL_VUE. */
const globalVue = {
  name: 'global-vue',
  /** @param {string} id */
  resolveId: (id) => (id === 'vue' ? '\0global-vue' : null),
  /** @param {string} id */
  load: (id) => (id === '\0global-vue' ? GLOBAL_VUE : null),
};

/** Each bundle: entry module, output file, format, UMD global name. */
const BUNDLES = [
  { input: src('global.js'), file: 'sidegears.js', format: 'umd', name: 'sidegears' },
  { input: src('index.js'), file: 'sidegears.esm.js', format: 'es' },
  { input: src('vue-plugin-global.js'), file: 'sidegears-plugin.js', format: 'umd', name: 'SidegearsPlugin', plugins: [globalVue] },
  // The ESM plugin imports the ESM client next to it, so that a page (or an
  // application bundle) that uses both holds one copy of RPCError & co.; and
  // 'vue' as it is, for the application's bundler or import map.
  { input: src('vue-plugin.js'), file: 'sidegears-plugin.esm.js', format: 'es', external: { [src('index.js')]: './sidegears.esm.js', vue: 'vue' } },
];

/**
 * Published declarations say what JSDoc cannot: that the plugin adds
 * `this.$_sidegears` to every component (Vue's ComponentCustomProperties),
 * and an interface an application merges its kernel's types into (JSDoc has
 * no interface to merge with), which types `$_sidegears` for every component.
 */
const VUE_AUGMENTATION = `
/**
 * The kernel's types for \`this.$_sidegears\`, by declaration merging (an empty
 * interface leaves it untyped):
 *
 *     import type { KernelApi, KernelNotifications } from './kernel-api';
 *     declare module 'sidegears/vue' {
 *         interface SidegearsTypes { api: KernelApi; notifications: KernelNotifications }
 *     }
 */
export interface SidegearsTypes {}
declare module 'vue' {
    interface ComponentCustomProperties {
        /** The app's SideGears object, installed by SidegearsPlugin. */
        $_sidegears: VueSidegears<
            SidegearsTypes extends { api: infer Api } ? Api : any,
            SidegearsTypes extends { notifications: infer Notifications } ? Notifications : any
        >;
    }
}
`;

/** @param {string} outDir */
export async function build(outDir) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const { input, file, format, name, external = {}, plugins = [] } of BUNDLES) {
    const bundle = await rollup({ input, external: Object.keys(external), plugins });
    await bundle.write({
      file: path.join(outDir, file),
      format,
      name,
      exports: format === 'umd' ? 'default' : 'auto',
      paths: external,
      banner,
      generatedCode: 'es2015',
    });
    await bundle.close();
  }
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(
    process.execPath,
    [tsc, '-p', path.join(root, 'tsconfig.types.json'), '--outDir', path.join(outDir, 'types')],
    { cwd: root, stdio: 'inherit' },
  );
  if (result.status !== 0) throw new Error('tsc failed to write the type declarations');
  appendFileSync(path.join(outDir, 'types', 'vue-plugin.d.ts'), VUE_AUGMENTATION);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'dist');
  await build(outDir);
  console.log(`built ${path.relative(process.cwd(), outDir) || '.'}`);
  if (!process.argv[2]) syncStatic();
}
