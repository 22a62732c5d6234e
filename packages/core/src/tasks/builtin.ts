// The built-in tasks, registered once: the only file that lists them. A new task is a file beside classify.ts
// and one line here.
import { classifyTask } from './classify.js';
import { embedTask } from './embed.js';
import { registerTask } from './task.js';

registerTask(classifyTask);
registerTask(embedTask);
