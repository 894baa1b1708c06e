// The CUDA backend's host-side plan, checked without a GPU: every card of every scene is drawn,
// blurs are the CPU's, and every block the device reads or writes lies apart and aligned.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "base/error.h"
#include "render/cuda_plan.h"
#include "render/kernels/gaussian_fixed.h"
#include "render/texture_cache.h"

using namespace cardsynth;

namespace {

constexpr int kBackgroundW = 700, kBackgroundH = 500;

// Two texture levels, and a size per (card, level) that differs from card to card.
PlanInputs fake_inputs() {
    PlanInputs in;
    in.level_for_height = [](double h) { return h < 100 ? 1 : 0; };
    in.texture_shape = [](int64_t key) {
        const int card = texture_key_card(key), level = texture_key_level(key);
        TextureShape s;
        s.inner_height = (level == 0 ? 160 : 100) + card;
        s.inner_width = s.inner_height * 5 / 7;
        s.width = s.inner_width + 2 * kTexturePad;
        s.height = s.inner_height + 2 * kTexturePad;
        return s;
    };
    in.background_size = [](int, int) { return cv::Size(kBackgroundW, kBackgroundH); };
    return in;
}

// Scenes of various sizes with cards turned, blurred, some off screen, and some with effects.
std::vector<SceneSpec> random_scenes(int n, uint32_t seed) {
    std::mt19937 rng(seed);
    auto uni = [&](float lo, float hi) {
        return std::uniform_real_distribution<float>(lo, hi)(rng);
    };
    std::vector<SceneSpec> scenes(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        SceneSpec& s = scenes[static_cast<size_t>(i)];
        s.index = i;
        s.seed = 99;
        s.width = 160 + static_cast<int>(rng() % 400);
        s.height = 120 + static_cast<int>(rng() % 300);
        s.background = static_cast<int32_t>(rng() % 3);
        s.background_level = static_cast<int32_t>(rng() % 2);
        s.crop_x = static_cast<int32_t>(rng() % (kBackgroundW - s.width + 1));
        s.crop_y = static_cast<int32_t>(rng() % (kBackgroundH - s.height + 1));
        if (i % 3 == 0) {
            s.effects.shadow_opacity = 0.4f, s.effects.shadow_dx = 5, s.effects.shadow_dy = -3;
            s.effects.glare_strength = 0.2f, s.effects.glare_x = 40, s.effects.glare_y = 30;
            s.effects.glare_radius = 80;
        }
        const int cards = static_cast<int>(rng() % 9);
        for (int k = 0; k < cards; ++k) {
            CardPlacement c;
            c.card_id = static_cast<int32_t>(rng() % 6);
            c.height = uni(60, 180);
            c.width = c.height * 5 / 7;
            const float a = uni(0, 6.28f);
            // Every fourth card (blurred) far off screen: its box is empty.
            const float cx = k % 4 == 3 ? -1000.0f : uni(0, static_cast<float>(s.width));
            c.pose = mat3_mul(mat3_translate(cx, uni(0, static_cast<float>(s.height))),
                              mat3_mul(mat3_rotate(std::cos(a), std::sin(a)),
                                       mat3_translate(-c.width / 2, -c.height / 2)));
            c.blur_sigma = k % 2 ? uni(0.0f, 2.0f) : 0.0f;
            s.cards.push_back(c);
        }
    }
    return scenes;
}

CudaPlan plan_all(const std::vector<SceneSpec>& scenes) {
    return plan_sub_batch(scenes, SubBatch{0, scenes.size()}, fake_inputs());
}

bool aligned(size_t offset) {
    return offset % kDeviceAlignment == 0;
}

// [offset, offset + bytes) ranges, sorted: none may overlap the next.
void require_disjoint(std::vector<std::pair<size_t, size_t>> ranges) {
    std::sort(ranges.begin(), ranges.end());
    for (size_t k = 1; k < ranges.size(); ++k) {
        INFO("range at " << ranges[k].first);
        REQUIRE(ranges[k - 1].first + ranges[k - 1].second <= ranges[k].first);
    }
}

}  // namespace

TEST_CASE("sub-batches cover the batch in order and stop at the pixel or image limit",
          "[render][cuda_plan]") {
    std::vector<SceneSpec> scenes(150);
    for (size_t i = 0; i < scenes.size(); ++i) {
        // Full HD frames (2 M pixels each) among many small ones.
        const bool big = i % 40 < 6;
        scenes[i].width = big ? 1920 : 64;
        scenes[i].height = big ? 1080 : 48;
    }
    const std::vector<SubBatch> subs = split_sub_batches(scenes);
    REQUIRE(!subs.empty());
    size_t next = 0;
    for (const SubBatch& b : subs) {
        REQUIRE(b.begin == next);
        REQUIRE(b.end > b.begin);
        REQUIRE(b.end - b.begin <= kSubBatchMaxImages);
        size_t pixels = 0;
        for (size_t i = b.begin; i < b.end; ++i)
            pixels += static_cast<size_t>(scenes[i].width) * scenes[i].height;
        const size_t last = static_cast<size_t>(scenes[b.end - 1].width) * scenes[b.end - 1].height;
        // Below the target until the last image; a sub-batch cut short is full.
        CHECK(pixels - last < kSubBatchPixels);
        if (b.end < scenes.size())
            CHECK((pixels >= kSubBatchPixels || b.end - b.begin == kSubBatchMaxImages));
        next = b.end;
    }
    REQUIRE(next == scenes.size());
    CHECK(split_sub_batches({}).empty());
}

TEST_CASE("a sub-batch's textures are each (card, level) it draws, once and sorted",
          "[render][cuda_plan]") {
    const std::vector<SceneSpec> scenes = random_scenes(30, 1);
    const PlanInputs in = fake_inputs();
    const SubBatch range{5, 25};
    const std::vector<int64_t> keys = sub_batch_textures(scenes, range, in.level_for_height);
    REQUIRE(std::is_sorted(keys.begin(), keys.end()));
    REQUIRE(std::adjacent_find(keys.begin(), keys.end()) == keys.end());
    size_t cards = 0;
    for (size_t i = range.begin; i < range.end; ++i)
        for (const CardPlacement& c : scenes[i].cards) {
            ++cards;
            const int64_t key = texture_key(c.card_id, in.level_for_height(c.height));
            CHECK(std::binary_search(keys.begin(), keys.end(), key));
        }
    REQUIRE(cards > keys.size());  // the scenes share textures, so the check means something
    CHECK(texture_key_card(texture_key(1234, 7)) == 1234);
    CHECK(texture_key_level(texture_key(1234, 7)) == 7);
}

TEST_CASE("every card of every scene gets a pass, in painter's order, as the CPU plans it",
          "[render][cuda_plan]") {
    const std::vector<SceneSpec> scenes = random_scenes(40, 2);
    const PlanInputs in = fake_inputs();
    const CudaPlan plan = plan_all(scenes);
    REQUIRE(plan.images.size() == scenes.size());
    size_t pass = 0;
    for (size_t i = 0; i < scenes.size(); ++i) {
        const SceneSpec& s = scenes[i];
        const DevImage& im = plan.images[i].record;
        INFO("image " << i);
        REQUIRE(im.first_pass == static_cast<int>(pass));
        REQUIRE(im.passes == static_cast<int>(s.cards.size()));
        CHECK(im.width == s.width);
        CHECK(im.height == s.height);
        CHECK(im.crop_x == s.crop_x);
        CHECK(im.crop_y == s.crop_y);
        CHECK(im.bg_stride == static_cast<size_t>(kBackgroundW) * 3);
        CHECK(plan.images[i].background == s.background);
        CHECK(plan.images[i].level == s.background_level);
        for (const CardPlacement& c : s.cards) {
            const PlannedPass& p = plan.passes[pass++];
            REQUIRE(p.texture == texture_key(c.card_id, in.level_for_height(c.height)));
            const TextureShape t = in.texture_shape(p.texture);
            const CardPass want = plan_card_pass(c, t.inner_width, t.inner_height, kTexturePad,
                                                 s.effects, s.width, s.height);
            CHECK(std::memcmp(&p.record.to_texture, &want.to_texture, sizeof(Mat3)) == 0);
            CHECK(p.record.x0 == want.x0);
            CHECK(p.record.x1 == want.x1);
            CHECK(p.record.y1 == want.y1);
            CHECK(p.record.pad == static_cast<float>(want.pad));
            CHECK(p.record.shadow_opacity256 == want.shadow_opacity256);
        }
    }
    CHECK(pass == plan.passes.size());
}

TEST_CASE("a blur job for each blurred card on screen, with the CPU's sigma and taps",
          "[render][cuda_plan]") {
    const std::vector<SceneSpec> scenes = random_scenes(40, 3);
    const PlanInputs in = fake_inputs();
    const CudaPlan plan = plan_all(scenes);
    size_t pass = 0, blurred = 0, offscreen_blurred = 0;
    for (const SceneSpec& s : scenes)
        for (const CardPlacement& c : s.cards) {
            const PlannedPass& p = plan.passes[pass++];
            const TextureShape t = in.texture_shape(p.texture);
            const CardPass want = plan_card_pass(c, t.inner_width, t.inner_height, kTexturePad,
                                                 s.effects, s.width, s.height);
            const bool on_screen = want.x0 < want.x1 && want.y0 < want.y1;
            if (want.blur_radius > 0 && !on_screen) ++offscreen_blurred;
            if (want.blur_radius == 0 || !on_screen) {
                CHECK(p.blur_job == -1);
                CHECK(p.record.tex_w == t.width);
                CHECK(p.record.tex_h == t.height);
                continue;
            }
            ++blurred;
            REQUIRE(p.blur_job >= 0);
            const PlannedBlur& b = plan.blurs[static_cast<size_t>(p.blur_job)];
            const int r = b.record.r;
            CHECK(b.sigma == want.blur_sigma);
            CHECK(r == static_cast<int>(std::ceil(3.0f * b.sigma)));
            CHECK(b.texture == p.texture);
            CHECK(b.record.w == t.width);
            CHECK(b.record.h == t.height);
            CHECK(b.record.stride == t.width * 4);
            // The pass samples the blurred texture, r pixels larger on every side.
            CHECK(p.record.tex_w == t.width + 2 * r);
            CHECK(p.record.tex_h == t.height + 2 * r);
            CHECK(p.record.tex_stride == p.record.tex_w * 4);
            REQUIRE(b.taps + 2 * r + 1 <= plan.taps.size());
            const std::vector<uint16_t> taps(plan.taps.begin() + b.taps,
                                             plan.taps.begin() + b.taps + 2 * r + 1);
            CHECK(taps == gaussian_taps_q8(2 * r + 1, b.sigma));
        }
    REQUIRE(blurred > 10);
    REQUIRE(offscreen_blurred > 0);
    CHECK(plan.blurs.size() == blurred);
}

TEST_CASE("upload, scratch and output blocks are aligned, apart and large enough",
          "[render][cuda_plan]") {
    const std::vector<SceneSpec> scenes = random_scenes(40, 4);
    const CudaPlan plan = plan_all(scenes);
    const UploadLayout& u = plan.upload;
    const std::vector<std::pair<size_t, size_t>> blob = {
        {u.images, plan.images.size() * sizeof(DevImage)},
        {u.passes, plan.passes.size() * sizeof(DevPass)},
        {u.jobs, plan.blurs.size() * sizeof(BlurJob)},
        {u.taps, plan.taps.size() * sizeof(uint16_t)},
        {u.glare, plan.glare.size() * sizeof(float)}};
    for (const auto& r : blob) {
        CHECK(aligned(r.first));
        CHECK(r.first + r.second <= u.bytes);
    }
    require_disjoint(blob);
    CHECK(u.bytes > 0);

    std::vector<std::pair<size_t, size_t>> scratch;
    for (const PlannedBlur& b : plan.blurs) {
        const size_t ow = static_cast<size_t>(b.record.w) + 2 * b.record.r;
        const size_t oh = static_cast<size_t>(b.record.h) + 2 * b.record.r;
        scratch.push_back({b.rows, ow * b.record.h * 4 * sizeof(uint16_t)});
        scratch.push_back({b.out, ow * oh * 4});
    }
    REQUIRE(!scratch.empty());
    for (const auto& r : scratch) {
        CHECK(aligned(r.first));
        CHECK(r.first + r.second <= plan.scratch_bytes);
    }
    require_disjoint(scratch);

    // RGB of every image back to back, then the ids, in the same order.
    size_t rgb = 0, ids = 0;
    for (size_t i = 0; i < scenes.size(); ++i) {
        const DevImage& im = plan.images[i].record;
        CHECK(im.rgb_offset == rgb);
        CHECK(im.ids_offset == ids);
        rgb += static_cast<size_t>(scenes[i].width) * scenes[i].height * 3;
        ids += static_cast<size_t>(scenes[i].width) * scenes[i].height;
    }
    CHECK(plan.rgb_bytes == rgb);
    CHECK(plan.ids_bytes == ids);
    CHECK(aligned(plan.ids_offset));
    CHECK(plan.ids_offset >= rgb);
    CHECK(plan.out_bytes == plan.ids_offset + ids);
}

TEST_CASE("glare tables: a row and a column profile for each image with glare",
          "[render][cuda_plan]") {
    const std::vector<SceneSpec> scenes = random_scenes(20, 5);
    const CudaPlan plan = plan_all(scenes);
    size_t expected = 0, with_glare = 0;
    for (size_t i = 0; i < scenes.size(); ++i) {
        const SceneSpec& s = scenes[i];
        const DevImage& im = plan.images[i].record;
        if (s.effects.glare_strength <= 0) {
            CHECK(im.glare_offset == -1);
            continue;
        }
        ++with_glare;
        REQUIRE(im.shade == 1);
        REQUIRE(im.glare_offset == static_cast<int>(expected));
        expected += static_cast<size_t>(s.width) + s.height;
        const float inv_r2 = 1.0f / (s.effects.glare_radius * s.effects.glare_radius);
        const float d = 0.5f - s.effects.glare_x;
        CHECK(plan.glare[static_cast<size_t>(im.glare_offset)] == std::exp(-d * d * inv_r2));
        const float dy = static_cast<float>(s.height - 1) + 0.5f - s.effects.glare_y;
        CHECK(plan.glare[static_cast<size_t>(im.glare_offset) + s.width + s.height - 1] ==
              std::exp(-dy * dy * inv_r2));
    }
    REQUIRE(with_glare > 0);
    CHECK(plan.glare.size() == expected);
}

TEST_CASE("blur launches take every job once, with blocks enough for each", "[render][cuda_plan]") {
    const std::vector<SceneSpec> scenes = random_scenes(40, 6);
    const CudaPlan plan = plan_all(scenes);
    REQUIRE(!plan.blurs.empty());
    int next = 0;
    for (const BlurLaunch& l : plan.blur_launches) {
        REQUIRE(l.first == next);
        REQUIRE(l.count > 0);
        REQUIRE(l.count <= kMaxBlurJobsPerLaunch);
        for (int j = l.first; j < l.first + l.count; ++j) {
            const BlurJob& b = plan.blurs[static_cast<size_t>(j)].record;
            const size_t ow = static_cast<size_t>(b.w) + 2 * b.r;
            CHECK(static_cast<size_t>(l.rows_blocks) * kBlurThreads >= ow * b.h);
            CHECK(static_cast<size_t>(l.out_blocks) * kBlurThreads >= ow * (b.h + 2 * b.r));
        }
        next = l.first + l.count;
    }
    CHECK(next == static_cast<int>(plan.blurs.size()));
    CHECK(plan_all(random_scenes(3, 7)).blur_launches.size() <= 1);
}

TEST_CASE("binding points blurred passes at their job's output, and the blob holds the records",
          "[render][cuda_plan]") {
    const std::vector<SceneSpec> scenes = random_scenes(12, 8);
    CudaPlan plan = plan_all(scenes);
    // Host memory stands in for the device: only the addresses matter.
    std::vector<uint8_t> blob(plan.upload.bytes), scratch(plan.scratch_bytes), textures(4096);
    DeviceAddresses at;
    at.blob = blob.data();
    at.scratch = scratch.data();
    at.texture = [&](int64_t key) { return textures.data() + (key & 4095); };
    at.background = [&](int b, int l) { return textures.data() + b * 10 + l; };
    bind_device_addresses(plan, at);
    for (const PlannedBlur& b : plan.blurs) {
        CHECK(b.record.src == at.texture(b.texture));
        CHECK(b.record.out == scratch.data() + b.out);
        CHECK(reinterpret_cast<uint8_t*>(b.record.rows) == scratch.data() + b.rows);
        CHECK(reinterpret_cast<const uint8_t*>(b.record.taps) ==
              blob.data() + plan.upload.taps + b.taps * sizeof(uint16_t));
    }
    for (const PlannedPass& p : plan.passes)
        CHECK(p.record.tex ==
              (p.blur_job >= 0 ? plan.blurs[p.blur_job].record.out : at.texture(p.texture)));
    for (const PlannedImage& im : plan.images)
        CHECK(im.record.bg == at.background(im.background, im.level));

    write_upload(plan, blob.data());
    for (size_t k = 0; k < plan.passes.size(); ++k)
        CHECK(std::memcmp(blob.data() + plan.upload.passes + k * sizeof(DevPass),
                          &plan.passes[k].record, sizeof(DevPass)) == 0);
    for (size_t k = 0; k < plan.images.size(); ++k)
        CHECK(std::memcmp(blob.data() + plan.upload.images + k * sizeof(DevImage),
                          &plan.images[k].record, sizeof(DevImage)) == 0);
    for (size_t k = 0; k < plan.blurs.size(); ++k)
        CHECK(std::memcmp(blob.data() + plan.upload.jobs + k * sizeof(BlurJob),
                          &plan.blurs[k].record, sizeof(BlurJob)) == 0);
    CHECK(std::memcmp(blob.data() + plan.upload.glare, plan.glare.data(),
                      plan.glare.size() * sizeof(float)) == 0);
}

TEST_CASE("a crop outside its background is refused before anything is uploaded",
          "[render][cuda_plan]") {
    std::vector<SceneSpec> scenes = random_scenes(3, 9);
    scenes[1].crop_x = kBackgroundW - scenes[1].width + 1;
    REQUIRE_THROWS_AS(plan_all(scenes), Error);
    scenes[1].crop_x = 0;
    scenes[1].crop_y = -1;
    REQUIRE_THROWS_AS(plan_all(scenes), Error);
    scenes[1].crop_y = 0;
    REQUIRE_NOTHROW(plan_all(scenes));
}
