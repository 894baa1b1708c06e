#include "dataset/label_schema.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "base/error.h"

namespace cardsynth {

const char* type_name(ElementType t) {
    switch (t) {
        case ElementType::UInt8:
            return "uint8";
        case ElementType::UInt16:
            return "uint16";
        case ElementType::Int32:
            return "int32";
        case ElementType::Float32:
            return "float32";
    }
    return "?";
}

void store_element(ElementType t, double value, void* out) {
    switch (t) {
        case ElementType::UInt8:
            *static_cast<uint8_t*>(out) = static_cast<uint8_t>(value);
            return;
        case ElementType::UInt16: {
            const uint16_t v = static_cast<uint16_t>(value);
            std::memcpy(out, &v, sizeof v);
            return;
        }
        case ElementType::Int32: {
            const int32_t v = static_cast<int32_t>(value);
            std::memcpy(out, &v, sizeof v);
            return;
        }
        case ElementType::Float32: {
            const float v = static_cast<float>(value);
            std::memcpy(out, &v, sizeof v);
            return;
        }
    }
}

void fill_count(const ImageLabels&, int stored, void* out) {
    const uint16_t count = static_cast<uint16_t>(stored);
    std::memcpy(out, &count, sizeof count);
}

LabelSchema::LabelSchema(std::vector<LabelColumn> columns) : columns_(std::move(columns)) {
    std::set<std::string> seen;
    for (const LabelColumn& c : columns_) {
        const std::string name = c.name ? c.name : "";
        if (name.empty() || name.find_first_of("/\"\\") != std::string::npos)
            throw DatasetError("label column name '" + name + "' is empty or has / \" or \\");
        if (!seen.insert(name).second) throw DatasetError("label column '" + name + "' twice");
        const bool filled =
            c.extent == LabelExtent::PerSlot ? c.fill_slot != nullptr : c.fill_image != nullptr;
        if (!filled) throw DatasetError("label column '" + name + "' has no fill function");
    }
    // Readers cut every per-slot column at the image's count.
    const auto count = std::find_if(columns_.begin(), columns_.end(), [](const LabelColumn& c) {
        return std::string(c.name) == "count";
    });
    if (count == columns_.end() || count->type != ElementType::UInt16 ||
        count->extent != LabelExtent::PerImage || count->shape.rank != 0)
        throw DatasetError("a label schema needs the per-image uint16 column 'count'");
}

size_t LabelSchema::index_of(const std::string& name) const {
    for (size_t k = 0; k < columns_.size(); ++k)
        if (name == columns_[k].name) return k;
    throw DatasetError("no label column '" + name + "'");
}

std::string LabelSchema::to_json() const {
    std::string out = "[";
    for (const LabelColumn& c : columns_) {
        std::string shape;
        for (int a = 0; a < c.shape.rank; ++a)
            shape += (a ? ", " : "") + std::to_string(c.shape.dims[a]);
        char padding[32];
        std::snprintf(padding, sizeof padding, "%.9g", c.padding);
        out += std::string(out.size() > 1 ? ",\n " : "") + "{\"name\": \"" + c.name +
               "\", \"dtype\": \"" + type_name(c.type) + "\", \"per\": \"" +
               (c.extent == LabelExtent::PerSlot ? "slot" : "image") + "\", \"shape\": [" + shape +
               "], \"padding\": " + padding + "}";
    }
    return out + "]";
}

const LabelSchema& default_label_schema() {
    static const LabelSchema schema(
        std::vector<LabelColumn>(std::begin(kCardsynth1Labels), std::end(kCardsynth1Labels)));
    return schema;
}

}  // namespace cardsynth
