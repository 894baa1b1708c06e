// The inputs a dataset was made from, against those a resumed run would finish it with. Images
// made before and after a change of a card file or of the popularity table would draw from two
// catalogs while /cards describes one, so --resume refuses unless every recorded input is the
// same: the list of cards (by path), each card file's size, modification time and content hash,
// and the popularity table's path, size, modification time and hash.
#pragma once

#include <string>

#include "catalog/catalog.h"
#include "dataset/dataset.h"

namespace cardsynth {

// "" when `catalog` was read from the inputs recorded in `stored`, else the first difference as
// a phrase: the popularity table first, then the card lists (a card added or removed), then each
// card in order ("card 'a.png' changed size (1024 bytes then, 1030 now)"). A file made before
// the record (no stamps) is compared by its list of cards only.
std::string first_input_difference(const CardTable& stored, const Catalog& catalog);

// Throws InputError (exit 2) naming `file` and the first difference.
void check_same_inputs(const CardTable& stored, const Catalog& catalog, const std::string& file);

}  // namespace cardsynth
