/**
 * Category names by label index, as data: torchvision 0.14's `_COCO_CATEGORIES` (torchvision/models/_meta.py,
 * 91 entries: index 0 is the background, 'N/A' marks the COCO ids that have no category) and `_VOC_CATEGORIES`
 * (21 entries, the segmentation models' classes). Checked against torchvision by categories.test.ts.
 */

/** SSDLite's 91 labels: `COCO_CATEGORIES[label]`. */
export const COCO_CATEGORIES: readonly string[] = Object.freeze([
  '__background__', 'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train',
  'truck', 'boat', 'traffic light', 'fire hydrant', 'N/A', 'stop sign', 'parking meter', 'bench',
  'bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear',
  'zebra', 'giraffe', 'N/A', 'backpack', 'umbrella', 'N/A', 'N/A', 'handbag',
  'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat',
  'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle', 'N/A', 'wine glass', 'cup',
  'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch',
  'potted plant', 'bed', 'N/A', 'dining table', 'N/A', 'N/A', 'toilet', 'N/A',
  'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
  'toaster', 'sink', 'refrigerator', 'N/A', 'book', 'clock', 'vase', 'scissors',
  'teddy bear', 'hair drier', 'toothbrush',
]);

/** LRASPP's and DeepLabV3's 21 classes: `VOC_CATEGORIES[class]`. */
export const VOC_CATEGORIES: readonly string[] = Object.freeze([
  '__background__', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car',
  'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person',
  'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
]);
