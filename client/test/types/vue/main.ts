// Checked (never run) by vue-tsc in `npm run typecheck`: an app made of
// single-file components, using the published declarations of sidegears/vue.
import { createApp } from 'vue';
import { SidegearsPlugin } from 'sidegears/vue';
import Readme from './Readme.vue';
import Status from './Status.vue';

createApp(Status).use(SidegearsPlugin).mount('#app');
createApp(Readme).use(SidegearsPlugin).mount('#readme');
