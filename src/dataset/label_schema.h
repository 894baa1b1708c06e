// The label columns of a dataset file, declared once. Each column of /labels is one row of a
// table: its name, element type, shape per label slot (or per image), the padding of unused
// slots, and how its values come from a CardLabel. The writer creates and fills the datasets
// from the table, the reader and the resume check open and verify them from it, the round
// buffers are sized from it, and the file carries a JSON description of it (on /labels) that the
// Python reader and the validator read. Adding a column is one row here plus its computation.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <type_traits>
#include <vector>

#include "render/labels.h"

namespace cardsynth {

// Element types, named as numpy names them (the names the JSON description uses).
enum class ElementType : uint8_t { UInt8, UInt16, Int32, Float32 };

constexpr int64_t element_size(ElementType t) {
    return t == ElementType::UInt8 ? 1 : t == ElementType::UInt16 ? 2 : 4;
}
const char* type_name(ElementType t);

// `value` as one element of type `t` at `out` (a padding value, or a fill value for HDF5).
void store_element(ElementType t, double value, void* out);

template <class T>
constexpr ElementType element_type_of() {
    static_assert(std::is_same_v<T, uint8_t> || std::is_same_v<T, uint16_t> ||
                      std::is_same_v<T, int32_t> || std::is_same_v<T, float>,
                  "a label element is uint8, uint16, int32 or float32");
    if constexpr (std::is_same_v<T, uint8_t>) return ElementType::UInt8;
    if constexpr (std::is_same_v<T, uint16_t>) return ElementType::UInt16;
    if constexpr (std::is_same_v<T, int32_t>) return ElementType::Int32;
    return ElementType::Float32;
}

// Whether a column holds one entry per label slot (M per image) or one per image.
enum class LabelExtent : uint8_t { PerSlot, PerImage };

// The shape of one entry (one slot, or one image): up to three axes; rank 0 is a scalar.
struct EntryShape {
    int rank = 0;
    std::array<int64_t, 3> dims{};

    constexpr int64_t elements() const {
        int64_t n = 1;
        for (int a = 0; a < rank; ++a) n *= dims[a];
        return n;
    }
};

// Writes one slot's elements (of the column's type) from a placed card.
using SlotFill = void (*)(const CardLabel& card, void* out);
// Reads one slot's elements back into a card; nullptr for columns CardLabel has no field for.
using SlotRead = void (*)(const void* in, CardLabel& card);
// Writes one image's elements from its labels, `stored` of which fit the image's slots.
using ImageFill = void (*)(const ImageLabels& labels, int stored, void* out);

struct LabelColumn {
    const char* name;  // the dataset is /labels/<name>
    ElementType type;
    LabelExtent extent;
    EntryShape shape;
    double padding;  // the value of a slot past the image's count
    SlotFill fill_slot = nullptr;
    SlotRead read_slot = nullptr;
    ImageFill fill_image = nullptr;

    constexpr int64_t bytes_per_entry() const { return shape.elements() * element_size(type); }
    // Elements of this column per image, with `max_cards` slots per image.
    constexpr int64_t elements_per_image(int64_t max_cards) const {
        return shape.elements() * (extent == LabelExtent::PerSlot ? max_cards : 1);
    }
    constexpr int64_t bytes_per_image(int64_t max_cards) const {
        return elements_per_image(max_cards) * element_size(type);
    }
    std::string path() const { return std::string("/labels/") + name; }
};

namespace label_detail {

template <auto Field>
using FieldOf =
    std::remove_cv_t<std::remove_reference_t<decltype(std::declval<CardLabel>().*Field)>>;

template <class T>
struct Elements {
    using type = T;
    static constexpr int64_t count = 1;
};
template <class T, size_t N>
struct Elements<std::array<T, N>> {
    using type = T;
    static constexpr int64_t count = N;
};

template <auto Field>
void copy_out(const CardLabel& card, void* out) {
    std::memcpy(out, &(card.*Field), sizeof(FieldOf<Field>));
}
template <auto Field>
void copy_in(const void* in, CardLabel& card) {
    std::memcpy(&(card.*Field), in, sizeof(FieldOf<Field>));
}

}  // namespace label_detail

// A per-slot column that stores the CardLabel field `Field` as it is, in the shape `Dims...`.
template <auto Field, int64_t... Dims>
constexpr LabelColumn card_field(const char* name, double padding = 0) {
    using E = label_detail::Elements<label_detail::FieldOf<Field>>;
    static_assert(sizeof...(Dims) <= 3, "at most three axes per slot");
    static_assert((Dims * ... * int64_t{1}) == E::count, "the shape must hold the whole field");
    return LabelColumn{name,
                       element_type_of<typename E::type>(),
                       LabelExtent::PerSlot,
                       EntryShape{static_cast<int>(sizeof...(Dims)), {Dims...}},
                       padding,
                       &label_detail::copy_out<Field>,
                       &label_detail::copy_in<Field>};
}

// How many of an image's cards its slots hold (the rest is padding).
void fill_count(const ImageLabels& labels, int stored, void* out);

// The columns of schema cardsynth/1, in the order of docs/FORMAT.md. `count` comes first: the
// reader needs it to know which slots hold a card.
inline constexpr LabelColumn kCardsynth1Labels[] = {
    {"count", ElementType::UInt16, LabelExtent::PerImage, {}, 0, nullptr, nullptr, &fill_count},
    card_field<&CardLabel::card_id>("card_id", -1),
    card_field<&CardLabel::corners, 4, 2>("corners"),
    card_field<&CardLabel::corner_visible, 4>("corner_visible"),
    card_field<&CardLabel::bbox, 4>("bbox"),
    card_field<&CardLabel::bbox_full, 4>("bbox_full"),
    card_field<&CardLabel::visible_fraction>("visible_fraction"),
};

// Bytes of every per-slot column for one slot (what a card adds to an image's labels).
constexpr int64_t label_bytes_per_slot(const LabelColumn* begin, const LabelColumn* end) {
    int64_t n = 0;
    for (const LabelColumn* c = begin; c != end; ++c)
        if (c->extent == LabelExtent::PerSlot) n += c->bytes_per_entry();
    return n;
}
constexpr int64_t kCardsynth1LabelBytesPerSlot =
    label_bytes_per_slot(std::begin(kCardsynth1Labels), std::end(kCardsynth1Labels));

// An ordered list of label columns: the cardsynth/1 default, or that plus columns of one's own.
class LabelSchema {
  public:
    LabelSchema() = default;
    explicit LabelSchema(std::vector<LabelColumn> columns);

    const std::vector<LabelColumn>& columns() const { return columns_; }
    size_t size() const { return columns_.size(); }
    const LabelColumn& operator[](size_t k) const { return columns_[k]; }
    // The position of column `name`; throws DatasetError when there is none.
    size_t index_of(const std::string& name) const;
    // The description the file carries as the `columns` attribute of /labels (docs/FORMAT.md).
    std::string to_json() const;

  private:
    std::vector<LabelColumn> columns_;
};

// The cardsynth/1 columns.
const LabelSchema& default_label_schema();

}  // namespace cardsynth
