// Label truth on the built-in content: the deck's own aspect ratios and corner radii reach the
// renderer and the labels alike, so the labels match the pixels of the id buffer (the masks).
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>

#include <opencv2/imgproc.hpp>

#include "catalog/builtin_deck.h"
#include "catalog/catalog.h"
#include "render/labels.h"
#include "render/render.h"
#include "scene/background.h"
#include "scene/scene.h"

using namespace cardsynth;

namespace {

struct BuiltinFixture {
    Config config;
    Catalog catalog;
    Backgrounds backgrounds;

    explicit BuiltinFixture(double corner_radius) {
        config.frame = {320, 192};
        config.cards.builtin_count = 400;
        config.cards.corner_radius = corner_radius;
        config.scene.min_cards = config.scene.max_cards = 1;
        config.scene.card_height = {70, 90};
        config.scene.perspective = 0.5;
        config.scene.blur_sigma = {0, 0};
        config.scene.effects = {0, 0, 0, 0};
        config.backgrounds.distractors = 0;
        catalog = Catalog::load(config.cards);
        backgrounds = Backgrounds::load(config.backgrounds, config.frame);
    }
};

bool well_inside(const CardLabel& l, float margin, int w, int h) {
    for (int c = 0; c < 4; ++c) {
        const float x = l.corners[2 * c], y = l.corners[2 * c + 1];
        if (x < margin || y < margin || x > w - margin || y > h - margin) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("a lone built-in card in the frame shows all four corners and its whole face",
          "[scene][labels][builtin]") {
    for (double configured : {0.0, 0.045}) {
        BuiltinFixture f(configured);
        RenderInputs in;
        in.config = &f.config;
        in.catalog = &f.catalog;
        in.backgrounds = &f.backgrounds;
        in.threads = 1;
        auto renderer = make_cpu_renderer(in);
        int checked = 0, round = 0, off_aspect = 0;
        for (int64_t i = 0; i < 160; ++i) {
            const SceneSpec s = compose(f.config, f.catalog, f.backgrounds, i);
            std::vector<Frame> frames;
            renderer->render({s}, frames);
            const ImageLabels l = compute_labels(s, frames[0].ids);
            REQUIRE(l.cards.size() == 1);
            if (!well_inside(l.cards[0], 3, 320, 192)) continue;
            const int id = f.catalog.cards()[s.cards[0].card_id].builtin_id;
            const BuiltinCardShape shape = builtin_card_shape(id);
            INFO("image " << i << ", built-in card " << id << ", corner fraction "
                          << shape.corner_fraction << ", configured " << configured);
            ++checked;
            round += shape.corner_fraction > 0.09;
            const double aspect = static_cast<double>(shape.width) / shape.height;
            off_aspect += std::abs(aspect - 0.718) > 0.04;
            CHECK(s.cards[0].width / s.cards[0].height == Approx(aspect).epsilon(1e-4));
            for (int c = 0; c < 4; ++c) CHECK(l.cards[0].corner_visible[c] == 2);
            CHECK(l.cards[0].visible_fraction == Approx(1.0).margin(0.025));
            // The visible box is the tight box of the card's pixels in the id buffer (the mask).
            cv::Mat ys_xs;
            cv::findNonZero(frames[0].ids == 1, ys_xs);
            const cv::Rect tight = cv::boundingRect(ys_xs);
            CHECK(l.cards[0].bbox ==
                  std::array<float, 4>{static_cast<float>(tight.x), static_cast<float>(tight.y),
                                       static_cast<float>(tight.x + tight.width),
                                       static_cast<float>(tight.y + tight.height)});
        }
        INFO("checked " << checked << " cards, " << round << " round, " << off_aspect
                        << " far from 0.718");
        CHECK(checked > 40);
        CHECK(round > 3);
        CHECK(off_aspect > 10);
    }
}

TEST_CASE("built-in content renders the same with one thread and with several",
          "[scene][builtin]") {
    BuiltinFixture f(0.045);
    f.config.scene.min_cards = 3, f.config.scene.max_cards = 8;
    f.config.scene.card_height = {40, 80};
    f.config.scene.blur_fraction = {0.0, 0.02};
    f.config.backgrounds.distractors = 3;
    f.backgrounds = Backgrounds::load(f.config.backgrounds, f.config.frame);
    RenderInputs in;
    in.config = &f.config;
    in.catalog = &f.catalog;
    in.backgrounds = &f.backgrounds;
    std::vector<SceneSpec> scenes;
    for (int64_t i = 0; i < 6; ++i)
        scenes.push_back(compose(f.config, f.catalog, f.backgrounds, i));
    std::vector<Frame> one, many;
    in.threads = 1;
    make_cpu_renderer(in)->render(scenes, one);
    in.threads = 3;
    make_cpu_renderer(in)->render(scenes, many);
    for (size_t k = 0; k < scenes.size(); ++k) {
        CHECK(cv::norm(one[k].rgb, many[k].rgb, cv::NORM_INF) == 0);
        CHECK(cv::norm(one[k].ids, many[k].ids, cv::NORM_INF) == 0);
    }
}
