#include "dataset/dataset.h"

#include <algorithm>
#include <ctime>
#include <exception>
#include <numeric>

#include "base/error.h"
#include "dataset/hdf5_handle.h"

namespace cardsynth {
namespace {

constexpr hsize_t kEncodedChunk = 1 << 20;  // bytes per chunk of /images_encoded

int comm_rank(MPI_Comm comm) {
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    return rank;
}

int comm_size(MPI_Comm comm) {
    int size = 1;
    MPI_Comm_size(comm, &size);
    return size;
}

// Rank 0's copy of `text` on every rank (attribute values must agree everywhere).
void broadcast(MPI_Comm comm, std::string& text) {
    uint64_t size = text.size();
    MPI_Bcast(&size, 1, MPI_UINT64_T, 0, comm);
    text.resize(size);
    if (size) MPI_Bcast(text.data(), static_cast<int>(size), MPI_CHAR, 0, comm);
}

std::string utc_now() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

size_t longest(const std::vector<std::string>& values) {
    size_t n = 0;
    for (const std::string& v : values) n = std::max(n, v.size());
    return n;
}

// Throws on every rank when any rank found a problem, so that no rank is left alone in the next
// collective call.
void agree_or_throw(MPI_Comm comm, const std::string& local_problem) {
    int bad = local_problem.empty() ? 0 : 1, any = 0;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, comm);
    if (!any) return;
    if (bad) throw DatasetError(local_problem);
    throw DatasetError("another rank passed a malformed round to the dataset writer");
}

}  // namespace

struct DatasetWriter::Impl {
    MPI_Comm comm = MPI_COMM_NULL;
    int rank = 0, ranks = 1;
    h5::File file;  // first member: destroyed after every dataset of it
    DatasetHeader header;
    h5::Dataset images, images_encoded, images_offset, images_size, masks, done;
    h5::Dataset count, card_id, corners, corner_visible, bbox, bbox_full, visible_fraction;
    h5::Transfer xfer = h5::Transfer::collective();
    uint64_t encoded_total = 0;  // current extent of /images_encoded
    // A round's encoded images end to end; kept from round to round, so that the memory is
    // mapped once rather than faulted in again for every round.
    std::vector<uint8_t> round_bytes;
    std::string not_collective;  // first cause of the last round, empty when all collective

    bool encoded() const { return header.storage != Storage::Raw; }
    hsize_t n() const { return static_cast<hsize_t>(header.num_images); }
    hsize_t m() const { return static_cast<hsize_t>(header.max_cards); }
    hsize_t h() const { return static_cast<hsize_t>(header.height); }
    hsize_t w() const { return static_cast<hsize_t>(header.width); }

    void open_datasets();
    void note(const h5::Dataset& d) {
        if (!not_collective.empty()) return;
        std::string why = xfer.no_collective_cause();
        if (!why.empty()) not_collective = d.name() + ": " + why;
    }
    template <class T, class A>
    void write(h5::Dataset& d, uint64_t begin, uint64_t rows, const std::vector<T, A>& data) {
        d.write_rows(xfer, begin, rows, data.data());
        note(d);
    }
    void close_all() {
        for (h5::Dataset* d :
             {&images, &images_encoded, &images_offset, &images_size, &masks, &done, &count,
              &card_id, &corners, &corner_visible, &bbox, &bbox_full, &visible_fraction}) {
            if (d->valid()) d->close();
        }
        if (file.valid()) file.close();
    }
};

void DatasetWriter::Impl::open_datasets() {
    if (encoded()) {
        images_encoded = file.open_dataset("/images_encoded");
        images_offset = file.open_dataset("/images_offset");
        images_size = file.open_dataset("/images_size");
        encoded_total = images_encoded.dims().at(0);
    } else {
        images = file.open_dataset("/images");
    }
    if (header.masks) masks = file.open_dataset("/masks");
    done = file.open_dataset("/done");
    count = file.open_dataset("/labels/count");
    card_id = file.open_dataset("/labels/card_id");
    corners = file.open_dataset("/labels/corners");
    corner_visible = file.open_dataset("/labels/corner_visible");
    bbox = file.open_dataset("/labels/bbox");
    bbox_full = file.open_dataset("/labels/bbox_full");
    visible_fraction = file.open_dataset("/labels/visible_fraction");
}

DatasetWriter::DatasetWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DatasetWriter::~DatasetWriter() {
    if (!impl_ || !impl_->file.valid()) return;
    if (std::uncaught_exceptions() > 0) {
        // Closing is collective: a rank unwinding alone would wait forever for the others. The
        // program is about to abort the job, so leave the handles to the end of the process.
        (void)impl_.release();
        return;
    }
    try {
        impl_->close_all();
    } catch (const std::exception&) {
        // A destructor cannot report; close() is the call that does.
    }
}

std::unique_ptr<DatasetWriter> DatasetWriter::create(MPI_Comm comm, const std::string& path,
                                                     const DatasetHeader& header_in,
                                                     const CardTable& cards) {
    auto impl = std::make_unique<Impl>();
    impl->comm = comm;
    impl->rank = comm_rank(comm);
    impl->ranks = comm_size(comm);
    DatasetHeader& header = impl->header;
    header = header_in;
    if (header.created_utc.empty() && impl->rank == 0) header.created_utc = utc_now();
    broadcast(comm, header.created_utc);
    if (header.generator_version.empty()) header.generator_version = CARDSYNTH_VERSION;
    if (header.num_images < 1 || header.width < 1 || header.height < 1 || header.max_cards < 1) {
        throw DatasetError("cannot create '" + path + "': num_images, width, height and " +
                           "max_cards must be positive");
    }
    const size_t c = cards.names.size();
    if (cards.sources.size() != c || cards.ranks.size() != c || cards.weights.size() != c) {
        throw DatasetError("cannot create '" + path + "': the card table columns differ in length");
    }

    h5::File& file = impl->file;
    file = h5::File::create_parallel(comm, path);
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

    // Small datasets carry their data from rank 0; the others select nothing.
    const bool root = impl->rank == 0;
    h5::Transfer& xfer = impl->xfer;
    {
        h5::Handle type = h5::string_type(header.config_yaml.size() + 1);
        h5::Dataset config = file.create_scalar("/config", type.get());
        config.write_scalar_string(xfer, header.config_yaml, root);
        config.close();
    }
    file.create_group("/labels");
    file.create_group("/cards");
    {
        const hsize_t cc = c;
        h5::Handle name_type = h5::string_type(longest(cards.names) + 1);
        h5::Dataset names = file.create_dataset("/cards/name", name_type.get(), {cc});
        names.write_strings(xfer, cards.names, root);
        h5::Handle source_type = h5::string_type(longest(cards.sources) + 1);
        h5::Dataset sources = file.create_dataset("/cards/source", source_type.get(), {cc});
        sources.write_strings(xfer, cards.sources, root);
        h5::Dataset card_rank =
            file.create_dataset("/cards/rank", h5::native_type<int32_t>(), {cc});
        card_rank.write_rows(xfer, 0, root ? cc : 0, cards.ranks.data());
        h5::Dataset weight = file.create_dataset("/cards/weight", h5::native_type<double>(), {cc});
        weight.write_rows(xfer, 0, root ? cc : 0, cards.weights.data());
    }

    const hsize_t n = impl->n(), m = impl->m(), h = impl->h(), w = impl->w();
    if (impl->encoded()) {
        h5::DatasetOptions growable;
        growable.chunk = {kEncodedChunk};
        growable.maxdims = {H5S_UNLIMITED};
        file.create_dataset("/images_encoded", h5::native_type<uint8_t>(), {0}, growable);
        h5::DatasetOptions zeroed;
        zeroed.write_fill = true;
        file.create_dataset("/images_offset", h5::native_type<uint64_t>(), {n}, zeroed);
        file.create_dataset("/images_size", h5::native_type<uint64_t>(), {n}, zeroed);
    } else {
        h5::DatasetOptions frames;
        frames.chunk = {1, h, w, 3};
        file.create_dataset("/images", h5::native_type<uint8_t>(), {n, h, w, 3}, frames);
    }
    if (header.masks) {
        h5::DatasetOptions frames;
        frames.chunk = {1, h, w};
        file.create_dataset("/masks", h5::native_type<uint8_t>(), {n, h, w}, frames);
    }
    {
        // The fill values document the padding; they are not written (fill time never), because
        // every image's rows are written whole, padding included, before its /done bit is set.
        h5::DatasetOptions padded;
        const int32_t no_card = -1;
        padded.fill_value = &no_card;
        file.create_dataset("/labels/count", h5::native_type<uint16_t>(), {n});
        file.create_dataset("/labels/card_id", h5::native_type<int32_t>(), {n, m}, padded);
        file.create_dataset("/labels/corners", h5::native_type<float>(), {n, m, 4, 2});
        file.create_dataset("/labels/corner_visible", h5::native_type<uint8_t>(), {n, m, 4});
        file.create_dataset("/labels/bbox", h5::native_type<float>(), {n, m, 4});
        file.create_dataset("/labels/bbox_full", h5::native_type<float>(), {n, m, 4});
        file.create_dataset("/labels/visible_fraction", h5::native_type<float>(), {n, m});
    }
    {
        h5::DatasetOptions zeroed;
        const uint8_t not_done = 0;
        zeroed.fill_value = &not_done;
        zeroed.write_fill = true;
        file.create_dataset("/done", h5::native_type<uint8_t>(), {n}, zeroed);
    }
    file.flush();
    impl->open_datasets();
    return std::unique_ptr<DatasetWriter>(new DatasetWriter(std::move(impl)));
}

std::unique_ptr<DatasetWriter> DatasetWriter::open(MPI_Comm comm, const std::string& path) {
    auto impl = std::make_unique<Impl>();
    impl->comm = comm;
    impl->rank = comm_rank(comm);
    impl->ranks = comm_size(comm);
    h5::File& file = impl->file;
    file = h5::File::open_parallel(comm, path);
    if (!file.has_attribute("schema")) {
        throw DatasetError("'" + path + "' is not a cardsynth dataset (no schema attribute)");
    }
    const std::string schema = file.read_string_attribute("schema");
    if (schema != kSchema) {
        throw DatasetError("'" + path + "' has schema '" + schema + "', expected '" + kSchema +
                           "'");
    }
    DatasetHeader& header = impl->header;
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
    {
        h5::Dataset config = file.open_dataset("/config");
        header.config_yaml = config.read_scalar_string();
        config.close();
    }
    impl->open_datasets();
    return std::unique_ptr<DatasetWriter>(new DatasetWriter(std::move(impl)));
}

const DatasetHeader& DatasetWriter::header() const {
    return impl_->header;
}

std::vector<uint8_t> DatasetWriter::read_done() {
    // Every rank reads the whole bitmap in one collective transfer (N bytes: small).
    std::vector<uint8_t> done(impl_->n());
    impl_->done.read_rows(0, done.size(), done.data(), &impl_->xfer);
    return done;
}

void DatasetWriter::write_round(const RoundData& mine) {
    Impl& d = *impl_;
    const uint64_t k = static_cast<uint64_t>(std::max<int64_t>(mine.images(), 0));
    const uint64_t m = d.m(), pixels = d.h() * d.w();
    {
        std::string problem;
        auto expect = [&](const char* what, size_t got, uint64_t want) {
            if (problem.empty() && got != want) {
                problem = "write_round on rank " + std::to_string(d.rank) + ": " + what +
                          " holds " + std::to_string(got) + " values, expected " +
                          std::to_string(want);
            }
        };
        if (mine.begin < 0 || mine.end < mine.begin || mine.end > d.header.num_images) {
            problem = "write_round on rank " + std::to_string(d.rank) + ": images [" +
                      std::to_string(mine.begin) + ", " + std::to_string(mine.end) +
                      ") outside [0, " + std::to_string(d.header.num_images) + ")";
        }
        if (d.encoded()) {
            expect("encoded", mine.encoded.size(), k);
        } else {
            expect("raw", mine.raw.size(), k * pixels * 3);
        }
        if (d.header.masks) expect("masks", mine.masks.size(), k * pixels);
        expect("count", mine.count.size(), k);
        expect("card_id", mine.card_id.size(), k * m);
        expect("corners", mine.corners.size(), k * m * 8);
        expect("corner_visible", mine.corner_visible.size(), k * m * 4);
        expect("bbox", mine.bbox.size(), k * m * 4);
        expect("bbox_full", mine.bbox_full.size(), k * m * 4);
        expect("visible_fraction", mine.visible_fraction.size(), k * m);
        agree_or_throw(d.comm, problem);
    }

    d.not_collective.clear();
    const uint64_t begin = k ? static_cast<uint64_t>(mine.begin) : 0;
    if (d.encoded()) {
        // Every rank learns every rank's byte count, so all compute the same new extent (a
        // collective argument) and each its own place in it, with no coordinator involved.
        uint64_t my_bytes = 0;
        for (const auto& bytes : mine.encoded) my_bytes += bytes.size();
        std::vector<uint64_t> all(static_cast<size_t>(d.ranks));
        MPI_Allgather(&my_bytes, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, d.comm);
        const uint64_t base =
            d.encoded_total + std::accumulate(all.begin(), all.begin() + d.rank, uint64_t{0});
        const uint64_t total =
            d.encoded_total + std::accumulate(all.begin(), all.end(), uint64_t{0});
        if (total != d.encoded_total) d.images_encoded.set_extent({total});

        std::vector<uint8_t>& bytes = d.round_bytes;
        bytes.clear();
        bytes.reserve(my_bytes);
        std::vector<uint64_t> offsets(k), sizes(k);
        for (uint64_t i = 0; i < k; ++i) {
            offsets[i] = base + bytes.size();
            sizes[i] = mine.encoded[i].size();
            bytes.insert(bytes.end(), mine.encoded[i].begin(), mine.encoded[i].end());
        }
        d.write(d.images_encoded, base, my_bytes, bytes);
        d.write(d.images_offset, begin, k, offsets);
        d.write(d.images_size, begin, k, sizes);
        d.encoded_total = total;
    } else {
        d.write(d.images, begin, k, mine.raw);
    }
    if (d.header.masks) d.write(d.masks, begin, k, mine.masks);
    d.write(d.count, begin, k, mine.count);
    d.write(d.card_id, begin, k, mine.card_id);
    d.write(d.corners, begin, k, mine.corners);
    d.write(d.corner_visible, begin, k, mine.corner_visible);
    d.write(d.bbox, begin, k, mine.bbox);
    d.write(d.bbox_full, begin, k, mine.bbox_full);
    d.write(d.visible_fraction, begin, k, mine.visible_fraction);
    // /done is set only once the data it vouches for is on disk.
    d.file.flush();
    d.write(d.done, begin, k, std::vector<uint8_t>(k, 1));
    d.file.flush();
}

void DatasetWriter::finish() {
    Impl& d = *impl_;
    d.file.flush();
    d.file.write_attribute("complete", static_cast<uint8_t>(1));
    d.file.flush();
    d.close_all();
}

void DatasetWriter::close() {
    Impl& d = *impl_;
    if (d.file.valid()) d.file.flush();
    d.close_all();
}

bool DatasetWriter::last_round_collective(std::string& why) const {
    why = impl_->not_collective;
    return why.empty();
}

void reset_labels(RoundData& rd, int64_t n, int M) {
    rd.count.assign(n, 0);
    rd.card_id.assign(n * M, -1);
    rd.corners.assign(n * M * 8, 0.0f);
    rd.corner_visible.assign(n * M * 4, 0);
    rd.bbox.assign(n * M * 4, 0.0f);
    rd.bbox_full.assign(n * M * 4, 0.0f);
    rd.visible_fraction.assign(n * M, 0.0f);
}

void store_labels(RoundData& rd, int64_t j, int M, const ImageLabels& labels) {
    const int n = std::min<int>(M, static_cast<int>(labels.cards.size()));
    rd.count[j] = static_cast<uint16_t>(n);
    for (int k = 0; k < n; ++k) {
        const CardLabel& l = labels.cards[k];
        const int64_t s = j * M + k;
        rd.card_id[s] = l.card_id;
        std::copy(l.corners.begin(), l.corners.end(), rd.corners.begin() + s * 8);
        std::copy(l.corner_visible.begin(), l.corner_visible.end(),
                  rd.corner_visible.begin() + s * 4);
        std::copy(l.bbox.begin(), l.bbox.end(), rd.bbox.begin() + s * 4);
        std::copy(l.bbox_full.begin(), l.bbox_full.end(), rd.bbox_full.begin() + s * 4);
        rd.visible_fraction[s] = l.visible_fraction;
    }
}

void truncate_labels(RoundData& rd, int64_t images, int max_cards) {
    const size_t k = static_cast<size_t>(images), M = static_cast<size_t>(max_cards);
    rd.count.resize(k);
    rd.card_id.resize(k * M);
    rd.corners.resize(k * M * 8);
    rd.corner_visible.resize(k * M * 4);
    rd.bbox.resize(k * M * 4);
    rd.bbox_full.resize(k * M * 4);
    rd.visible_fraction.resize(k * M);
}

}  // namespace cardsynth
