/** The list beside OUT: 'emb.npy' -> 'emb.files.txt'. */
export const fileListPath = (out: string): string => `${out.replace(/\.(npy|safetensors)$/i, '')}.files.txt`;

/** The identity beside OUT: 'emb.npy' -> 'emb.meta.json'. */
export const metaPath = (out: string): string => `${out.replace(/\.(npy|safetensors)$/i, '')}.meta.json`;

export const EMBED_FORMAT = 'mobilenet-embed/1';
