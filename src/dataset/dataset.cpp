#include "dataset/dataset.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <exception>
#include <numeric>
#include <optional>

#include "base/error.h"
#include "base/text.h"
#include "dataset/direct_file.h"
#include "dataset/hdf5_handle.h"
#include "dataset/header.h"
#include "dataset/label_columns.h"
#include "mpi/mpi_context.h"

namespace cardsynth {
namespace {

constexpr hsize_t kEncodedChunk = 1 << 20;  // bytes per chunk of /images_encoded

int comm_rank(MPI_Comm comm) {
    int rank = 0;
    check_mpi(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank of the dataset's communicator");
    return rank;
}

int comm_size(MPI_Comm comm) {
    int size = 1;
    check_mpi(MPI_Comm_size(comm, &size), "MPI_Comm_size of the dataset's communicator");
    return size;
}

// Rank 0's copy of `text` on every rank (attribute values must agree everywhere).
void broadcast(MPI_Comm comm, std::string& text) {
    uint64_t size = text.size();
    check_mpi(MPI_Bcast(&size, 1, MPI_UINT64_T, 0, comm), "MPI_Bcast of a text's length");
    text.resize(size);
    if (size)
        check_mpi(MPI_Bcast(text.data(), static_cast<int>(size), MPI_CHAR, 0, comm),
                  "MPI_Bcast of a text");
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
// collective call; the ranks without a problem of their own say `elsewhere`.
void agree_or_throw(
    MPI_Comm comm, const std::string& local_problem,
    const char* elsewhere = "another rank passed a malformed round to the dataset writer") {
    int bad = local_problem.empty() ? 0 : 1, any = 0;
    check_mpi(MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, comm),
              "MPI_Allreduce of the ranks' problems");
    if (!any) return;
    if (bad) throw DatasetError(local_problem);
    throw DatasetError(elsewhere);
}

}  // namespace

struct DatasetWriter::Impl {
    MPI_Comm comm = MPI_COMM_NULL;
    int rank = 0, ranks = 1;
    h5::File file;  // first member: destroyed after every dataset of it
    DatasetHeader header;
    LabelSchema schema;
    h5::Dataset images, images_encoded, images_offset, images_size, masks, done;
    std::vector<h5::Dataset> labels;  // in schema order
    h5::Transfer xfer = h5::Transfer::collective();
    uint64_t encoded_total = 0;  // current extent of /images_encoded
    // A round's encoded images end to end; kept from round to round, so that the memory is
    // mapped once rather than faulted in again for every round.
    std::vector<uint8_t> round_bytes;
    std::string not_collective;  // first cause of the last round, empty when all collective
    // Contiguous frame datasets are written straight into the file: where each starts. Files
    // made when frames were chunked have none, and their frames go through HDF5.
    std::optional<uint64_t> images_at, masks_at;
    std::unique_ptr<DirectFile> direct;
    bool fail_frames = false;  // a test's injected failure

    bool encoded() const { return header.storage != Storage::Raw; }
    hsize_t n() const { return static_cast<hsize_t>(header.num_images); }
    hsize_t m() const { return static_cast<hsize_t>(header.max_cards); }
    hsize_t h() const { return static_cast<hsize_t>(header.height); }
    hsize_t w() const { return static_cast<hsize_t>(header.width); }

    // A writer's state on this rank, before its file is created or opened.
    static std::unique_ptr<Impl> make(MPI_Comm comm, const LabelSchema& schema) {
        auto impl = std::make_unique<Impl>();
        impl->comm = comm;
        impl->rank = comm_rank(comm);
        impl->ranks = comm_size(comm);
        impl->schema = schema;
        return impl;
    }
    void open_datasets();
    std::string check_round(const RoundData& mine) const;
    void write_encoded(const RoundData& mine, uint64_t begin, uint64_t k);
    void write_frames(const RoundData& mine, uint64_t begin, uint64_t k);
    void write_frame_rows(h5::Dataset& d, const std::optional<uint64_t>& at, uint64_t begin,
                          uint64_t k, uint64_t row_bytes, const PixelBuffer& data);
    void write_labels(const RoundData& mine, uint64_t begin, uint64_t k);
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
             {&images, &images_encoded, &images_offset, &images_size, &masks, &done}) {
            if (d->valid()) d->close();
        }
        for (h5::Dataset& d : labels)
            if (d.valid()) d.close();
        direct.reset();
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
    labels = open_label_columns(file, schema, header.num_images, header.max_cards);
    if (images.valid()) images_at = images.contiguous_offset();
    if (masks.valid()) masks_at = masks.contiguous_offset();
    if (images_at || masks_at) direct = std::make_unique<DirectFile>(file.path());
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

namespace {

// A UTF-8 string column `name` of `values` made valid (U+FFFD for what is not), and beside it
// `name`_bytes: the values' own bytes, zero-padded rows of uint8 (HDF5 strings claim a charset;
// these bytes may have none).
void write_text_column(h5::File& file, const std::string& name,
                       const std::vector<std::string>& values, const h5::Transfer& xfer,
                       bool root) {
    const hsize_t rows = values.size();
    std::vector<std::string> utf8(values.size());
    for (size_t i = 0; i < values.size(); ++i) utf8[i] = to_valid_utf8(values[i]);
    h5::Handle type = h5::string_type(longest(utf8) + 1);
    h5::Dataset text = file.create_dataset(name, type.get(), {rows});
    const size_t width = std::max<size_t>(1, longest(values));
    h5::Dataset raw =
        file.create_dataset(name + "_bytes", h5::native_type<uint8_t>(), {rows, width});
    if (rows == 0) return;  // an empty dataset has no storage to write to
    text.write_strings(xfer, utf8, root);
    std::vector<uint8_t> bytes(values.size() * width, 0);
    for (size_t i = 0; i < values.size(); ++i)
        std::memcpy(&bytes[i * width], values[i].data(), values[i].size());
    raw.write_rows(xfer, 0, root ? rows : 0, bytes.data());
}

// file_size, file_mtime_ns and file_hash under `group`, one row per stamp.
void write_stamps(h5::File& file, const std::string& group, const std::vector<FileStamp>& stamps,
                  const h5::Transfer& xfer, bool root) {
    const hsize_t rows = stamps.size();
    std::vector<int64_t> sizes, mtimes;
    std::vector<uint64_t> hashes;
    for (const FileStamp& s : stamps) {
        sizes.push_back(s.size);
        mtimes.push_back(s.mtime_ns);
        hashes.push_back(s.hash);
    }
    h5::Dataset size =
        file.create_dataset(group + "/file_size", h5::native_type<int64_t>(), {rows});
    h5::Dataset mtime =
        file.create_dataset(group + "/file_mtime_ns", h5::native_type<int64_t>(), {rows});
    h5::Dataset hash =
        file.create_dataset(group + "/file_hash", h5::native_type<uint64_t>(), {rows});
    if (rows == 0) return;  // an empty dataset has no storage to write to
    const uint64_t carried = root ? rows : 0;
    size.write_rows(xfer, 0, carried, sizes.data());
    mtime.write_rows(xfer, 0, carried, mtimes.data());
    hash.write_rows(xfer, 0, carried, hashes.data());
}

// The input record: each card's file (in /cards) and the popularity table (/popularity, no row
// without one), which --resume compares with the inputs as they are then.
void write_input_record(h5::File& file, const CardTable& cards, const h5::Transfer& xfer,
                        bool root) {
    write_stamps(file, "/cards", cards.files, xfer, root);
    file.create_group("/popularity");
    const bool table = !cards.popularity_path.empty();
    write_text_column(
        file, "/popularity/source",
        table ? std::vector<std::string>{cards.popularity_path} : std::vector<std::string>{}, xfer,
        root);
    write_stamps(file, "/popularity",
                 table ? std::vector<FileStamp>{cards.popularity_file} : std::vector<FileStamp>{},
                 xfer, root);
}

void write_cards(h5::File& file, const CardTable& cards, const h5::Transfer& xfer, bool root) {
    const hsize_t cc = cards.names.size();
    write_text_column(file, "/cards/name", cards.names, xfer, root);
    write_text_column(file, "/cards/source", cards.sources, xfer, root);
    if (!cards.files.empty()) write_input_record(file, cards, xfer, root);
    h5::Dataset card_rank = file.create_dataset("/cards/rank", h5::native_type<int32_t>(), {cc});
    card_rank.write_rows(xfer, 0, root ? cc : 0, cards.ranks.data());
    h5::Dataset weight = file.create_dataset("/cards/weight", h5::native_type<double>(), {cc});
    weight.write_rows(xfer, 0, root ? cc : 0, cards.weights.data());
}

// /images (or the encoded trio) and /masks, at full size. Frames are contiguous, so that each rank
// puts a round's frames in place with one direct write (write_frames); readers see the same
// shapes and bytes as with chunks.
void create_image_datasets(h5::File& file, const DatasetHeader& header) {
    const hsize_t n = static_cast<hsize_t>(header.num_images);
    const hsize_t h = static_cast<hsize_t>(header.height), w = static_cast<hsize_t>(header.width);
    if (header.storage != Storage::Raw) {
        h5::DatasetOptions growable;
        growable.chunk = {kEncodedChunk};
        growable.maxdims = {H5S_UNLIMITED};
        file.create_dataset("/images_encoded", h5::native_type<uint8_t>(), {0}, growable);
        h5::DatasetOptions zeroed;
        zeroed.write_fill = true;
        file.create_dataset("/images_offset", h5::native_type<uint64_t>(), {n}, zeroed);
        file.create_dataset("/images_size", h5::native_type<uint64_t>(), {n}, zeroed);
    } else {
        file.create_dataset("/images", h5::native_type<uint8_t>(), {n, h, w, 3});
    }
    if (header.masks) file.create_dataset("/masks", h5::native_type<uint8_t>(), {n, h, w});
}

void check_creatable(const std::string& path, const DatasetHeader& header, const CardTable& cards) {
    if (header.num_images < 1 || header.width < 1 || header.height < 1 || header.max_cards < 1) {
        throw DatasetError("cannot create '" + path + "': num_images, width, height and " +
                           "max_cards must be positive");
    }
    const size_t c = cards.names.size();
    if (cards.sources.size() != c || cards.ranks.size() != c || cards.weights.size() != c ||
        (!cards.files.empty() && cards.files.size() != c)) {
        throw DatasetError("cannot create '" + path + "': the card table columns differ in length");
    }
}

}  // namespace

std::unique_ptr<DatasetWriter> DatasetWriter::create(MPI_Comm comm, const std::string& path,
                                                     const DatasetHeader& header_in,
                                                     const CardTable& cards,
                                                     const LabelSchema& labels) {
    auto impl = Impl::make(comm, labels);
    DatasetHeader& header = impl->header;
    header = header_in;
    if (header.created_utc.empty() && impl->rank == 0) header.created_utc = utc_now();
    broadcast(comm, header.created_utc);
    if (header.generator_version.empty()) header.generator_version = CARDSYNTH_VERSION;
    check_creatable(path, header, cards);

    h5::File& file = impl->file;
    file = h5::File::create_parallel(comm, path);
    // Small datasets carry their data from rank 0; the others select nothing.
    const bool root = impl->rank == 0;
    write_header(file, header, impl->xfer, root);
    for (h5::Dataset& d : create_label_columns(file, labels, header.num_images, header.max_cards))
        d.close();
    file.create_group("/cards");
    write_cards(file, cards, impl->xfer, root);
    create_image_datasets(file, header);
    {
        h5::DatasetOptions zeroed;
        const uint8_t not_done = 0;
        zeroed.fill_value = &not_done;
        zeroed.write_fill = true;
        file.create_dataset("/done", h5::native_type<uint8_t>(), {impl->n()}, zeroed);
    }
    file.flush();
    impl->open_datasets();
    return std::unique_ptr<DatasetWriter>(new DatasetWriter(std::move(impl)));
}

std::unique_ptr<DatasetWriter> DatasetWriter::open(MPI_Comm comm, const std::string& path,
                                                   const LabelSchema& labels) {
    auto impl = Impl::make(comm, labels);
    impl->file = h5::File::open_parallel(comm, path);
    impl->header = read_header(impl->file);
    check_same_columns(impl->file, labels);
    impl->open_datasets();
    return std::unique_ptr<DatasetWriter>(new DatasetWriter(std::move(impl)));
}

const DatasetHeader& DatasetWriter::header() const {
    return impl_->header;
}

CardTable DatasetWriter::read_cards() const {
    check_datasets(impl_->file, impl_->header);
    return cardsynth::read_cards(impl_->file);
}

std::vector<uint8_t> DatasetWriter::read_done() {
    // Every rank reads the whole bitmap in one collective transfer (N bytes: small).
    std::vector<uint8_t> done(impl_->n());
    impl_->done.read_rows(0, done.size(), done.data(), &impl_->xfer);
    return done;
}

void DatasetWriter::write_round(const RoundData& mine) {
    Impl& d = *impl_;
    agree_or_throw(d.comm, d.check_round(mine));
    d.not_collective.clear();
    const uint64_t k = static_cast<uint64_t>(std::max<int64_t>(mine.images(), 0));
    const uint64_t begin = k ? static_cast<uint64_t>(mine.begin) : 0;
    if (d.encoded()) d.write_encoded(mine, begin, k);
    d.write_frames(mine, begin, k);
    d.write_labels(mine, begin, k);
    // /done is set only once the data it vouches for is on disk.
    d.file.flush();
    d.write(d.done, begin, k, std::vector<uint8_t>(k, 1));
    d.file.flush();
}

// Raw frames and masks. Each rank writes its range of a contiguous frame dataset itself and syncs
// it; then the ranks agree, so that a failed write stops every rank before the labels' collective
// writes, and before /done.
void DatasetWriter::Impl::write_frames(const RoundData& mine, uint64_t begin, uint64_t k) {
    std::string problem;
    try {
        if (!encoded()) write_frame_rows(images, images_at, begin, k, h() * w() * 3, mine.raw);
        if (header.masks) write_frame_rows(masks, masks_at, begin, k, h() * w(), mine.masks);
        if (direct && k) direct->sync();
    } catch (const DatasetError& e) {
        problem = e.what();
    }
    agree_or_throw(comm, problem, "another rank could not write its frames");
}

void DatasetWriter::Impl::write_frame_rows(h5::Dataset& d, const std::optional<uint64_t>& at,
                                           uint64_t begin, uint64_t k, uint64_t row_bytes,
                                           const PixelBuffer& data) {
    if (!at) return write(d, begin, k, data);
    if (k == 0) return;
    const std::string what = "dataset '" + d.name() + "' in '" + file.path() + "'";
    if (fail_frames) throw DatasetError("cannot write " + what + " (failure injected by a test)");
    direct->write(*at + begin * row_bytes, data.data(), k * row_bytes, what);
}

void DatasetWriter::Impl::write_labels(const RoundData& mine, uint64_t begin, uint64_t k) {
    for (size_t c = 0; c < labels.size(); ++c) {
        const uint8_t* bytes = k ? mine.labels[c].data() : nullptr;
        labels[c].write_rows_raw(h5_type(schema[c].type), xfer.get(), begin, k, bytes);
        note(labels[c]);
    }
}

// What is wrong with this rank's share of a round ("" when nothing): its range, and each buffer's
// size against the header and the label schema.
std::string DatasetWriter::Impl::check_round(const RoundData& mine) const {
    const uint64_t k = static_cast<uint64_t>(std::max<int64_t>(mine.images(), 0));
    const std::string where = "write_round on rank " + std::to_string(rank) + ": ";
    if (mine.begin < 0 || mine.end < mine.begin || mine.end > header.num_images)
        return where + "images [" + std::to_string(mine.begin) + ", " + std::to_string(mine.end) +
               ") outside [0, " + std::to_string(header.num_images) + ")";
    std::string problem;
    auto expect = [&](const char* what, size_t got, uint64_t want) {
        if (problem.empty() && got != want)
            problem = where + what + " holds " + std::to_string(got) + " values, expected " +
                      std::to_string(want);
    };
    const uint64_t pixels = h() * w();
    if (encoded())
        expect("encoded", mine.encoded.size(), k);
    else
        expect("raw", mine.raw.size(), k * pixels * 3);
    if (header.masks) expect("masks", mine.masks.size(), k * pixels);
    // An empty share may leave its label buffers out altogether.
    if (k || !mine.labels.empty()) {
        expect("labels", mine.labels.size(), schema.size());
        for (size_t c = 0; c < schema.size() && c < mine.labels.size(); ++c)
            expect(schema[c].name, mine.labels[c].size(),
                   k * schema[c].bytes_per_image(static_cast<int64_t>(m())));
    }
    return problem;
}

// The round's encoded images, end to end after what earlier rounds wrote. Every rank learns
// every rank's byte count, so all compute the same new extent (a collective argument) and each
// its own place in it, with no coordinator involved.
void DatasetWriter::Impl::write_encoded(const RoundData& mine, uint64_t begin, uint64_t k) {
    uint64_t my_bytes = 0;
    for (const auto& bytes : mine.encoded) my_bytes += bytes.size();
    std::vector<uint64_t> all(static_cast<size_t>(ranks));
    check_mpi(MPI_Allgather(&my_bytes, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, comm),
              "MPI_Allgather of the round's encoded bytes per rank");
    const uint64_t base =
        encoded_total + std::accumulate(all.begin(), all.begin() + rank, uint64_t{0});
    const uint64_t total = encoded_total + std::accumulate(all.begin(), all.end(), uint64_t{0});
    if (total != encoded_total) images_encoded.set_extent({total});

    round_bytes.clear();
    round_bytes.reserve(my_bytes);
    std::vector<uint64_t> offsets(k), sizes(k);
    for (uint64_t i = 0; i < k; ++i) {
        offsets[i] = base + round_bytes.size();
        sizes[i] = mine.encoded[i].size();
        round_bytes.insert(round_bytes.end(), mine.encoded[i].begin(), mine.encoded[i].end());
    }
    write(images_encoded, base, my_bytes, round_bytes);
    write(images_offset, begin, k, offsets);
    write(images_size, begin, k, sizes);
    encoded_total = total;
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

bool DatasetWriter::frames_direct() const {
    return impl_->direct && impl_->direct->direct();
}

void DatasetWriter::fail_frame_writes_for_tests() {
    impl_->fail_frames = true;
}

void reset_labels(RoundData& rd, int64_t images, int max_cards, const LabelSchema& schema) {
    rd.labels.resize(schema.size());
    for (size_t c = 0; c < schema.size(); ++c) {
        const LabelColumn& column = schema[c];
        const size_t elements = static_cast<size_t>(images * column.elements_per_image(max_cards));
        const size_t size = static_cast<size_t>(element_size(column.type));
        std::vector<uint8_t>& buffer = rd.labels[c];
        buffer.assign(elements * size, 0);
        if (column.padding == 0) continue;
        uint8_t pad[8];
        store_element(column.type, column.padding, pad);
        for (size_t e = 0; e < elements; ++e) std::memcpy(&buffer[e * size], pad, size);
    }
}

void store_labels(RoundData& rd, int64_t j, int max_cards, const ImageLabels& labels,
                  const LabelSchema& schema) {
    const int stored = std::min<int>(max_cards, static_cast<int>(labels.cards.size()));
    for (size_t c = 0; c < schema.size(); ++c) {
        const LabelColumn& column = schema[c];
        uint8_t* image = rd.labels[c].data() + j * column.bytes_per_image(max_cards);
        if (column.extent == LabelExtent::PerImage) {
            column.fill_image(labels, stored, image);
            continue;
        }
        for (int k = 0; k < stored; ++k)
            column.fill_slot(labels.cards[k], image + k * column.bytes_per_entry());
    }
}

void truncate_labels(RoundData& rd, int64_t images, int max_cards, const LabelSchema& schema) {
    for (size_t c = 0; c < schema.size() && c < rd.labels.size(); ++c)
        rd.labels[c].resize(static_cast<size_t>(images * schema[c].bytes_per_image(max_cards)));
}

}  // namespace cardsynth
