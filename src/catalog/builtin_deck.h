// The built-in procedural deck: cards that look like cards (border, title bar, art box, text box,
// rounded corners), each id distinct, so that the program runs with no card files at all.
#pragma once

#include <string>

#include <opencv2/core.hpp>

namespace cardsynth {

constexpr int kBuiltinCardWidth = 488;
constexpr int kBuiltinCardHeight = 680;

// Card `id` of the built-in deck as RGBA8 (R, G, B, A) of kBuiltinCardWidth x kBuiltinCardHeight,
// transparent outside its rounded corners. A pure function of id.
cv::Mat render_builtin_card(int id);
std::string builtin_card_name(int id);

}  // namespace cardsynth
