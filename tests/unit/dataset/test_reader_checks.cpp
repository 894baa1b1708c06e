// The reader's checks that need no file: card ids of placed cards must index /cards, and the
// error names the file, the image, the slot and both numbers.
#include <catch2/catch.hpp>

#include "base/error.h"
#include "dataset/header.h"

using namespace cardsynth;
using Catch::Matchers::Contains;

namespace {

std::vector<CardLabel> placed(std::initializer_list<int32_t> ids) {
    std::vector<CardLabel> out;
    for (int32_t id : ids) {
        CardLabel l;
        l.card_id = id;
        out.push_back(l);
    }
    return out;
}

}  // namespace

TEST_CASE("card ids inside /cards pass") {
    CHECK_NOTHROW(check_card_ids(placed({}), 0, 0, "f.h5"));
    CHECK_NOTHROW(check_card_ids(placed({0, 4, 2}), 3, 5, "f.h5"));
}

TEST_CASE("a card id past /cards names the file, image, slot and both numbers") {
    CHECK_THROWS_AS(check_card_ids(placed({0, 5}), 7, 5, "f.h5"), DatasetError);
    CHECK_THROWS_WITH(check_card_ids(placed({0, 5}), 7, 5, "f.h5"),
                      Contains("'f.h5'") && Contains("image 7") && Contains("card_id 5") &&
                          Contains("slot 1") && Contains("(5 cards)"));
}

TEST_CASE("a negative card id in a placed slot is refused") {
    // -1 is the padding past `count`; a placed card never has it.
    CHECK_THROWS_WITH(check_card_ids(placed({-1}), 0, 3, "f.h5"), Contains("card_id -1"));
    CHECK_THROWS_WITH(check_card_ids(placed({2}), 0, 0, "f.h5"), Contains("(0 cards)"));
}
