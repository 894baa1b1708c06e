#include "cardsynth/error.h"
