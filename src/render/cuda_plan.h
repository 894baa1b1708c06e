// What the CUDA backend sends to the device for a batch of scenes, decided on the host by plain
// C++ that needs no GPU: how the batch is cut into sub-batches, each card's draw (its pass), the
// blurs to run first, and where every record lies in the upload blob, the blur scratch and the
// output buffer. render_cuda.cu only uploads, binds device addresses and launches; keeping the
// decisions here lets the tests check them on any machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "render/kernels/card_pass.h"
#include "render/kernels/geometry.h"
#include "render/kernels/shading.h"
#include "scene/scene.h"

namespace cardsynth {

// One card's draw as the composite kernel reads it: CardPass plus the texture it samples.
struct DevPass {
    Mat3 to_texture, shadow_to_texture;
    const uint8_t* tex;
    int tex_w, tex_h, tex_stride;
    float pad;  // transparent border as drawn (CardPass::pad), for id_covers
    int x0, y0, x1, y1;
    uint32_t shadow_opacity256;
};

// One output image as the composite kernel reads it.
struct DevImage {
    ShadingParams shading;
    const uint8_t* bg;  // background level, RGB8
    size_t bg_stride;
    int crop_x, crop_y, width, height;
    int first_pass, passes;
    size_t rgb_offset, ids_offset;  // into the sub-batch's output buffers
    int glare_offset;               // gx[width] then gy[height] in the glare table; -1 = none
    int shade;
    int colour;  // the camera's colour: index into the colour tables; -1 = none
};

// One card blurred into scratch memory: source w x h, output (w + 2r) x (h + 2r).
struct BlurJob {
    const uint8_t* src;
    const uint16_t* taps;
    uint16_t* rows;  // pass 1: (w + 2r) x h x 4
    uint8_t* out;    // pass 2: (w + 2r) x (h + 2r) x 4, tight rows
    int w, h, stride, r;
};

// Every block the device sees starts on this boundary (cudaMalloc's own alignment).
constexpr size_t kDeviceAlignment = 256;
// Sub-batches of about kSubBatchPixels keep both streams busy without large buffers.
constexpr size_t kSubBatchPixels = size_t{1} << 22;
constexpr size_t kSubBatchMaxImages = 64;
// Blur launches: threads per block, and the most jobs one launch takes (gridDim.y).
constexpr int kBlurThreads = 256;
constexpr int kMaxBlurJobsPerLaunch = 65535;

constexpr size_t align_device(size_t n) {
    return (n + kDeviceAlignment - 1) & ~(kDeviceAlignment - 1);
}

// A card texture at one level, named by one integer so that both caches can key on it.
constexpr int64_t texture_key(int32_t card_id, int level) {
    return (static_cast<int64_t>(card_id) << 8) | static_cast<int64_t>(level);
}
constexpr int32_t texture_key_card(int64_t key) {
    return static_cast<int32_t>(key >> 8);
}
constexpr int texture_key_level(int64_t key) {
    return static_cast<int>(key & 255);
}

// The size of a card texture as the device holds it: padded by kTexturePad, and the card inside.
struct TextureShape {
    int width = 0, height = 0;
    int inner_width = 0, inner_height = 0;
};

// What planning reads besides the scenes. level_for_height is TextureCache::level_for_height;
// texture_shape is asked only for keys that sub_batch_textures returned.
struct PlanInputs {
    std::function<int(double)> level_for_height;
    std::function<TextureShape(int64_t)> texture_shape;
    std::function<cv::Size(int background, int level)> background_size;
};

// Scenes [begin, end) of a batch, rendered together on one stream.
struct SubBatch {
    size_t begin = 0, end = 0;
};

// Cuts a batch into consecutive sub-batches: each stops after kSubBatchPixels output pixels or
// kSubBatchMaxImages images, whichever comes first.
std::vector<SubBatch> split_sub_batches(const std::vector<SceneSpec>& scenes);

// The textures a sub-batch samples, sorted, each once.
std::vector<int64_t> sub_batch_textures(const std::vector<SceneSpec>& scenes, SubBatch range,
                                        const std::function<int(double)>& level_for_height);

struct PlannedImage {
    DevImage record;  // bg unset until bind_device_addresses
    int background = 0, level = 0;
};

struct PlannedPass {
    DevPass record;     // tex unset until bind_device_addresses
    int64_t texture;    // what it samples, or what its blur job blurs
    int blur_job = -1;  // index into CudaPlan::blurs; -1 = the texture as cached
};

struct PlannedBlur {
    BlurJob record;   // pointers unset until bind_device_addresses
    int64_t texture;  // the source
    float sigma = 0;  // texture pixels, as CardPass::blur_sigma
    size_t taps = 0;  // first of its 2r + 1 taps in CudaPlan::taps
    size_t rows = 0;  // byte offsets in the blur scratch: pass 1 and pass 2 output
    size_t out = 0;
};

// One launch of the two blur kernels: jobs [first, first + count), blocks enough for the
// largest of them.
struct BlurLaunch {
    int first = 0, count = 0;
    unsigned rows_blocks = 0, out_blocks = 0;
};

// Byte offsets of the arrays in the upload blob, each aligned to kDeviceAlignment.
struct UploadLayout {
    size_t images = 0, passes = 0, jobs = 0, taps = 0, glare = 0, colours = 0;
    size_t bytes = 0;  // the whole blob, never 0
};

struct CudaPlan {
    std::vector<PlannedImage> images;  // one per scene, in order
    std::vector<PlannedPass> passes;   // each image's cards, in painter's order
    std::vector<PlannedBlur> blurs;
    std::vector<uint16_t> taps;        // every blur's kernel, back to back
    std::vector<float> glare;          // per image with glare: the row profile, then the column one
    std::vector<ColourTable> colours;  // per image whose camera changes its colour
    std::vector<BlurLaunch> blur_launches;
    UploadLayout upload;
    size_t scratch_bytes = 0;  // blur scratch, never 0
    // Output: every image's RGB back to back, then from ids_offset every id buffer.
    size_t rgb_bytes = 0, ids_offset = 0, ids_bytes = 0, out_bytes = 0;
    int most_width = 1, most_height = 1;  // the composite grid covers the largest image
};

// Plans scenes [range.begin, range.end): the same passes, blurs and shading the CPU backend
// draws. Throws Error when a scene's crop leaves its background.
CudaPlan plan_sub_batch(const std::vector<SceneSpec>& scenes, SubBatch range,
                        const PlanInputs& inputs);

// Where the plan's records point on the device: the upload blob, the blur scratch, and each
// texture and background level.
struct DeviceAddresses {
    const uint8_t* blob = nullptr;
    uint8_t* scratch = nullptr;
    std::function<const uint8_t*(int64_t)> texture;
    std::function<const uint8_t*(int background, int level)> background;
};

// Fills in the records' device pointers: a blurred pass samples its job's output.
void bind_device_addresses(CudaPlan& plan, const DeviceAddresses& at);

// Writes the blob (plan.upload.bytes) that the kernels read at the offsets of plan.upload.
void write_upload(const CudaPlan& plan, uint8_t* blob);

}  // namespace cardsynth
