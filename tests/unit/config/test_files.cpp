// The shipped configuration files load and validate, and default.yaml says what the code says.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "base/error.h"
#include "config/config.h"

using namespace cardsynth;

TEST_CASE("every file in configs/ loads and validates") {
    const std::filesystem::path dir = std::filesystem::path(CARDSYNTH_SOURCE_DIR) / "configs";
    int seen = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".yaml") continue;
        INFO(entry.path().string());
        Config c;
        REQUIRE_NOTHROW(apply_yaml_file(c, entry.path().string()));
        REQUIRE_NOTHROW(validate(c));
        ++seen;
    }
    CHECK(seen >= 4);
}

TEST_CASE("configs/default.yaml holds exactly the built-in defaults") {
    Config c;
    c.num_images = 5;
    c.scene.effects.noise = 9;
    apply_yaml_file(c, std::string(CARDSYNTH_SOURCE_DIR) + "/configs/default.yaml");
    // Every key is in the file, so these are overwritten, and nothing differs from Config{}.
    CHECK(c.num_images == 1000);
    CHECK(c.scene.effects.noise == 2.0);
    CHECK(to_yaml(c) == to_yaml(Config{}));
}

TEST_CASE("configs/w1.yaml is benchmark workload W1") {
    Config c;
    apply_yaml_file(c, std::string(CARDSYNTH_SOURCE_DIR) + "/configs/w1.yaml");
    CHECK(c.frame.width == 1280);
    CHECK(c.frame.height == 720);
    CHECK(c.scene.min_cards == 8);
    CHECK(c.scene.max_cards == 16);
    CHECK(c.scene.card_height.lo == 140);
    CHECK(c.scene.card_height.hi == 260);
    CHECK(c.scene.rotation_deg.lo == 0);
    CHECK(c.scene.rotation_deg.hi == 360);
    CHECK(c.scene.blur_sigma.lo == 0);
    CHECK(c.scene.blur_sigma.hi == 1.5);
    CHECK(c.scene.perspective == 0);
    CHECK(c.output.storage == Storage::Jpeg);
    CHECK(c.output.jpeg_quality == 90);
    CHECK(c.cards.use_popularity_weights);
    CHECK(c.scene.overlap == Overlap::Allow);
    CHECK(c.scene.effects.lighting == 0);
    CHECK(c.scene.effects.shadow == 0);
    CHECK(c.scene.effects.glare == 0);
    CHECK(c.scene.effects.noise == 0);
}

TEST_CASE("configs/table.yaml makes table scenes") {
    Config c;
    apply_yaml_file(c, std::string(CARDSYNTH_SOURCE_DIR) + "/configs/table.yaml");
    CHECK(c.scene.kind == SceneKind::Table);
}
