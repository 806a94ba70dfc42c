// tinyml::optim in one include: Optimizer, SGD, Adam/AdamW and the learning-rate schedulers.
#pragma once

#include "tinyml/optim/adam.hpp"
#include "tinyml/optim/lr_scheduler.hpp"
#include "tinyml/optim/optimizer.hpp"
#include "tinyml/optim/sgd.hpp"
