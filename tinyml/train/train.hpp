// Umbrella header of the training layer: MLPs by size, datasets by name, evaluation (and, through it,
// data::train_epoch, the epoch loop), model files, optimizers by name.
#pragma once

#include "tinyml/train/datasets.hpp"
#include "tinyml/train/evaluate.hpp"
#include "tinyml/train/mlp.hpp"
#include "tinyml/train/model_loader.hpp"
#include "tinyml/train/optimizers.hpp"
