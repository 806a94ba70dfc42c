// tinyml::nn in one include: Module, layers, Sequential, losses and init.
#pragma once

#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/dropout.hpp"
#include "tinyml/nn/flatten.hpp"
#include "tinyml/nn/identity.hpp"
#include "tinyml/nn/init.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/loss.hpp"
#include "tinyml/nn/module.hpp"
#include "tinyml/nn/sequential.hpp"
