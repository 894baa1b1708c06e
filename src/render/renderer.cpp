// The backend factory: the one place that knows whether the CUDA backend was built.
#include "base/error.h"
#include "render/render.h"
#include "render/texture_cache.h"

namespace cardsynth {

#if !defined(CARDSYNTH_HAVE_CUDA)
std::unique_ptr<Renderer> make_cuda_renderer(const RenderInputs&) {
    throw Error(
        "--device cuda: this build has no CUDA backend (configure with -DCARDSYNTH_CUDA=ON "
        "where nvcc is installed)");
}
#endif

std::unique_ptr<TextureCache> make_texture_cache(const RenderInputs& in) {
    // Levels from the tallest card drawn down to the shortest: never larger than on screen.
    return std::make_unique<TextureCache>(*in.catalog, in.config->scene.card_height.lo,
                                          in.config->scene.card_height.hi, in.cache_bytes,
                                          static_cast<float>(in.config->cards.corner_radius));
}

std::unique_ptr<Renderer> make_renderer(Device device, const RenderInputs& inputs,
                                        std::string& why) {
    why.clear();
    switch (device) {
        case Device::Cpu:
            return make_cpu_renderer(inputs);
        case Device::Cuda:
            return make_cuda_renderer(inputs);
        case Device::Auto:
            break;
    }
    try {
        return make_cuda_renderer(inputs);
    } catch (const Error& e) {
        // The reason is worded for --device cuda; auto only reports it.
        std::string reason = e.what();
        const std::string prefix = "--device cuda: ";
        if (reason.rfind(prefix, 0) == 0) reason = reason.substr(prefix.size());
        why = "auto: rendering on the CPU (" + reason + ")";
        return make_cpu_renderer(inputs);
    }
}

}  // namespace cardsynth
