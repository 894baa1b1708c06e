// The built-in procedural deck: cards with the variety of real ones, so that the program runs with
// no card files at all and a detector trained on it meets real cards prepared. Every card is a
// pure function of its id: face colour (white, cream, coloured, dark), border (none, thin, thick;
// black, white, gold, coloured), layout (pip cards with corner indices, mirrored court cards with
// portrait-like figures, trading cards with art boxes and text-like glyph lines, art cards), some
// foil or glossy faces, an aspect ratio from 0.62 to 0.76 and a corner radius from square to round.
// Cards come in decks of kBuiltinDeckCards consecutive ids that share face, border, finish, format
// and corners, as the cards of one printed deck do; each card has its own layout and content.
#pragma once

#include <string>

#include <opencv2/core.hpp>

namespace cardsynth {

// Nominal size of a built-in card (the catalog's size for every card; the width is the middle of
// the deck's aspect ratios); render_builtin_card gives each card kBuiltinCardHeight rows and the
// width of its own aspect.
constexpr int kBuiltinCardWidth = 469;
constexpr int kBuiltinCardHeight = 680;
// Part of the stamp that --resume compares for a built-in card: raise it whenever the drawing of
// any card changes, so that a file begun with one deck is never finished with another.
constexpr int kBuiltinDeckVersion = 3;

// Cards in one built-in deck: ids [k * kBuiltinDeckCards, (k + 1) * kBuiltinDeckCards) form deck k.
constexpr int kBuiltinDeckCards = 20;

struct BuiltinCardShape {
    int width = kBuiltinCardWidth, height = kBuiltinCardHeight;  // pixels of the rendered card
    double corner_fraction = 0;  // radius of its rounded corners over its width, 0 = square
};

// The size and corner radius of card `id`, without drawing it.
BuiltinCardShape builtin_card_shape(int id);
// Card `id` of the built-in deck as RGBA8 (R, G, B, A) of builtin_card_shape(id)'s size,
// transparent outside its rounded corners. A pure function of id.
cv::Mat render_builtin_card(int id);
std::string builtin_card_name(int id);

}  // namespace cardsynth
