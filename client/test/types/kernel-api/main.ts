// Checked (never run) by tests/test_typescript.py with vue-tsc.
import { createApp } from 'vue';
import { SidegearsPlugin } from 'sidegears/vue';
import type { KernelApi, KernelNotifications } from './kernel-api';
import { kernel } from './client';
import Kernel from './Kernel.vue';
import Options from './Options.vue';

// The documented pattern: the kernel's types for every component's this.$_sidegears.
declare module 'sidegears/vue' {
  interface SidegearsTypes {
    api: KernelApi;
    notifications: KernelNotifications;
  }
}

createApp(Kernel).use(SidegearsPlugin, { client: kernel }).mount('#app');
createApp(Options).use(SidegearsPlugin).mount('#options');
