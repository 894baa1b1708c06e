#include "dataset/header.h"

#include "base/error.h"

namespace cardsynth {

void write_header(h5::File& file, const DatasetHeader& header, const h5::Transfer& xfer,
                  bool root) {
    file.write_attribute("schema", std::string(kSchema));
    file.write_attribute("generator_version", header.generator_version);
    file.write_attribute("seed", header.seed);
    file.write_attribute("num_images", static_cast<int64_t>(header.num_images));
    file.write_attribute("width", static_cast<int32_t>(header.width));
    file.write_attribute("height", static_cast<int32_t>(header.height));
    file.write_attribute("max_cards", static_cast<int32_t>(header.max_cards));
    file.write_attribute("channel_order", std::string("RGB"));
    file.write_attribute("storage", std::string(to_string(header.storage)));
    file.write_attribute("masks", static_cast<uint8_t>(header.masks ? 1 : 0));
    file.write_attribute("complete", static_cast<uint8_t>(0));
    file.write_attribute("created_utc", header.created_utc);

    h5::Handle type = h5::string_type(header.config_yaml.size() + 1);
    h5::Dataset config = file.create_scalar("/config", type.get());
    config.write_scalar_string(xfer, header.config_yaml, root);
    config.close();
}

DatasetHeader read_header(const h5::File& file) {
    const std::string& path = file.path();
    if (!file.has_attribute("schema")) {
        throw DatasetError("'" + path + "' is not a cardsynth dataset (no schema attribute)");
    }
    const std::string schema = file.read_string_attribute("schema");
    if (schema != kSchema) {
        throw DatasetError("'" + path + "' has schema '" + schema + "', expected '" + kSchema +
                           "'");
    }
    DatasetHeader header;
    header.seed = file.read_uint_attribute("seed");
    header.num_images = file.read_int_attribute("num_images");
    header.width = static_cast<int>(file.read_int_attribute("width"));
    header.height = static_cast<int>(file.read_int_attribute("height"));
    header.max_cards = static_cast<int>(file.read_int_attribute("max_cards"));
    header.masks = file.read_int_attribute("masks") != 0;
    const std::string storage = file.read_string_attribute("storage");
    try {
        header.storage = parse_storage(storage, "storage");
    } catch (const ConfigError&) {
        throw DatasetError("'" + path + "' has an unknown storage '" + storage + "'");
    }
    header.generator_version = file.read_string_attribute("generator_version");
    header.created_utc = file.read_string_attribute("created_utc");
    h5::Dataset config = file.open_dataset("/config");
    header.config_yaml = config.read_scalar_string();
    config.close();
    return header;
}

}  // namespace cardsynth
