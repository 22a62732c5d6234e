// SSD's maths as torchvision computes it (see README.md): the names the rest of core and the package index use.
export {
  defaultBoxes,
  type DefaultBoxOptions,
  defaultBoxesPerLocation,
  SSDLITE_DEFAULT_BOXES,
  SSDLITE320_GRIDS,
  SSDLITE320_INPUT_SIZE,
} from './anchors.js';
export { COCO_CATEGORIES, VOC_CATEGORIES } from './categories.js';
export { batchedNms, nms } from './nms.js';
export {
  type DetectionLayout,
  type DetectionOptions,
  type Detections,
  postprocessDetections,
  resolveDetectionOptions,
  SSD_IOU_THRESHOLD,
  SSD_MAX_DETECTIONS,
  SSD_SCORE_THRESHOLD,
  SSD_TOPK_CANDIDATES,
} from './postprocess.js';
