// The built-in tasks: the only list of them. A new task is a file beside classify.ts and one entry here (or, outside
// core, one `registerTask` call).
import { classifyTask } from './classify.js';
import { detectTask } from './detect.js';
import { embedTask } from './embed.js';
import { segmentTask } from './segment.js';
import type { AnyTask } from './task.js';

export const BUILTIN_TASKS: readonly AnyTask[] = [classifyTask, embedTask, detectTask, segmentTask];
