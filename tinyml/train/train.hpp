// Umbrella header of the training layer: MLPs by size, datasets by name, the epoch loop, model files.
#pragma once

#include "tinyml/train/datasets.hpp"
#include "tinyml/train/loop.hpp"
#include "tinyml/train/mlp.hpp"
#include "tinyml/train/model_loader.hpp"
#include "tinyml/train/optimizers.hpp"
