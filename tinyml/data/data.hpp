// The data layer in one include: datasets, the loader, the epoch loop, IDX files, Fashion-MNIST, synthetic
// sets.
#pragma once

#include "tinyml/data/dataloader.hpp"
#include "tinyml/data/dataset.hpp"
#include "tinyml/data/epoch.hpp"
#include "tinyml/data/fashion_mnist.hpp"
#include "tinyml/data/idx.hpp"
#include "tinyml/data/synthetic.hpp"
