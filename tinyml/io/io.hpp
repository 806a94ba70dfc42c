// The io layer in one include: the safetensors format and model save/load.
#pragma once

#include "tinyml/io/metadata.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/io/model_io.hpp"
#include "tinyml/io/safetensors.hpp"
