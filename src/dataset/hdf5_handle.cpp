#include "dataset/hdf5_handle.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "base/error.h"

namespace cardsynth::h5 {
namespace {

herr_t take_first(unsigned n, const H5E_error2_t* err, void* out) {
    if (n == 0 && err->desc) *static_cast<std::string*>(out) = err->desc;
    return 0;
}

// The innermost message of HDF5's error stack, which says what really failed ("MPI_File_open
// failed: ... no such file or directory") where the outer ones only repeat the API call; then
// clears the stack.
std::string reason() {
    std::string desc;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, take_first, &desc);
    H5Eclear2(H5E_DEFAULT);
    return desc;
}

[[noreturn]] void fail(const std::string& what) {
    std::string why = reason();
    throw DatasetError(why.empty() ? what : what + " (" + why + ")");
}

hid_t check(hid_t id, const std::string& what) {
    if (id < 0) fail(what);
    return id;
}

void check_status(herr_t status, const std::string& what) {
    if (status < 0) fail(what);
}

std::string in(const std::string& object, const std::string& file) {
    return "'" + object + "' in '" + file + "'";
}

// An attribute as messages name it: of the root by its name alone, else as object:name.
std::string attribute_in(const std::string& object, const std::string& name,
                         const std::string& file) {
    return in(object == "." ? name : object + ":" + name, file);
}

std::string cause_text(uint32_t cause) {
    struct Named {
        uint32_t bit;
        const char* text;
    };
    static const Named names[] = {
        {H5D_MPIO_SET_INDEPENDENT, "independent transfer requested"},
        {H5D_MPIO_DATATYPE_CONVERSION, "datatype conversion"},
        {H5D_MPIO_DATA_TRANSFORMS, "data transform"},
        {H5D_MPIO_MPI_OPT_TYPES_ENV_VAR_DISABLED, "MPI derived types disabled"},
        {H5D_MPIO_NOT_SIMPLE_OR_SCALAR_DATASPACES, "dataspace not simple or scalar"},
        {H5D_MPIO_NOT_CONTIGUOUS_OR_CHUNKED_DATASET, "dataset neither contiguous nor chunked"},
        {H5D_MPIO_PARALLEL_FILTERED_WRITES_DISABLED, "filtered writes not parallel"},
        {H5D_MPIO_ERROR_WHILE_CHECKING_COLLECTIVE_POSSIBLE, "error while checking"},
    };
    std::string text;
    for (const Named& n : names) {
        if (cause & n.bit) text += (text.empty() ? "" : ", ") + std::string(n.text);
    }
    return text.empty() ? "cause " + std::to_string(cause) : text;
}

constexpr hsize_t kAlignAbove = 16 << 10, kAlignment = 4096;

Handle file_access(MPI_Comm comm, const std::string& path) {
    Handle fapl(
        check(H5Pcreate(H5P_FILE_ACCESS), "cannot create file access list for '" + path + "'"));
    check_status(H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL),
                 "cannot select MPI-IO for '" + path + "'");
    // Every rank makes the same metadata calls, so metadata can be read once and broadcast, and
    // written collectively, instead of every rank hitting the file system.
    check_status(H5Pset_all_coll_metadata_ops(fapl.get(), true),
                 "cannot set collective metadata reads for '" + path + "'");
    check_status(H5Pset_coll_metadata_write(fapl.get(), true),
                 "cannot set collective metadata writes for '" + path + "'");
    // Objects of four blocks or more (frames) start on a block boundary, where direct I/O can
    // write them.
    check_status(H5Pset_alignment(fapl.get(), kAlignAbove, kAlignment),
                 "cannot set the alignment of '" + path + "'");
    return fapl;
}

// Open MPI's MPI-IO (ompio, 4.1) probes every file it opens by formatting "<path>.locktest.<rank>"
// into a 256-byte buffer (the lockedfile shared-file-pointer component), which aborts the process
// ("buffer overflow detected") for a path of about 240 bytes or more. A path longer than this is
// handed to MPI-IO through the rank's own descriptor of its directory instead, which names the
// same file in a few bytes on every rank and every node. The margin covers the suffix and any
// rank number.
constexpr size_t kMpiIoPathMax = 200;

}  // namespace

MpiIoPath::MpiIoPath(const std::string& path) : path_(path) {
    if (path.size() <= kMpiIoPathMax) return;
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "."
                            : slash == 0               ? "/"
                                                       : path.substr(0, slash);
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    dir_fd_ = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd_ < 0)
        throw DatasetError("cannot open the directory of '" + path + "' (" + std::strerror(errno) +
                           ")");
    path_ = "/proc/self/fd/" + std::to_string(dir_fd_) + "/" + name;
    if (path_.size() > kMpiIoPathMax) {
        ::close(dir_fd_);
        const size_t most = kMpiIoPathMax - (path_.size() - name.size());
        throw DatasetError("cannot open '" + path + "' through MPI-IO: its file name is " +
                           std::to_string(name.size()) + " bytes, more than the " +
                           std::to_string(most) + " that Open MPI can take");
    }
}

MpiIoPath::~MpiIoPath() {
    if (dir_fd_ >= 0) ::close(dir_fd_);
}

Handle& Handle::operator=(Handle&& other) noexcept {
    if (this != &other) {
        reset();
        id_ = other.id_;
        other.id_ = H5I_INVALID_HID;
    }
    return *this;
}

bool Handle::reset() {
    if (id_ < 0) return true;
    hid_t id = id_;
    id_ = H5I_INVALID_HID;
    herr_t status = -1;
    switch (H5Iget_type(id)) {
        case H5I_FILE:
            status = H5Fclose(id);
            break;
        case H5I_GROUP:
            status = H5Gclose(id);
            break;
        case H5I_DATASET:
            status = H5Dclose(id);
            break;
        case H5I_ATTR:
            status = H5Aclose(id);
            break;
        case H5I_DATASPACE:
            status = H5Sclose(id);
            break;
        case H5I_DATATYPE:
            status = H5Tclose(id);
            break;
        case H5I_GENPROP_LST:
            status = H5Pclose(id);
            break;
        default:
            break;
    }
    return status >= 0;
}

void silence_error_stack() {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Handle string_type(size_t size) {
    Handle type(check(H5Tcopy(H5T_C_S1), "cannot create a string type"));
    check_status(H5Tset_size(type.get(), std::max<size_t>(size, 1)),
                 "cannot size a string type to " + std::to_string(size));
    check_status(H5Tset_strpad(type.get(), H5T_STR_NULLTERM), "cannot set string padding");
    check_status(H5Tset_cset(type.get(), H5T_CSET_UTF8), "cannot set UTF-8 strings");
    return type;
}

// --- Transfer ---------------------------------------------------------------------------------

Transfer Transfer::collective() {
    Transfer t;
    t.plist_ = Handle(check(H5Pcreate(H5P_DATASET_XFER), "cannot create a transfer list"));
    check_status(H5Pset_dxpl_mpio(t.plist_.get(), H5FD_MPIO_COLLECTIVE),
                 "cannot make transfers collective");
    t.collective_ = true;
    return t;
}

Transfer Transfer::independent() {
    Transfer t;
    t.plist_ = Handle(check(H5Pcreate(H5P_DATASET_XFER), "cannot create a transfer list"));
    return t;
}

std::string Transfer::no_collective_cause() const {
    if (!collective_) return "independent transfer requested";
    uint32_t local = 0, global = 0;
    check_status(H5Pget_mpio_no_collective_cause(plist_.get(), &local, &global),
                 "cannot ask whether a transfer stayed collective");
    if ((local | global) == H5D_MPIO_COLLECTIVE) return "";
    if (local) return "broken on this rank: " + cause_text(local);
    return "broken on another rank: " + cause_text(global);
}

// --- Dataset ----------------------------------------------------------------------------------

std::vector<hsize_t> Dataset::dims() const {
    Handle space(check(H5Dget_space(id_.get()), "cannot read the shape of " + in(name_, file_)));
    int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) fail("cannot read the shape of " + in(name_, file_));
    std::vector<hsize_t> d(static_cast<size_t>(rank));
    if (rank > 0 && H5Sget_simple_extent_dims(space.get(), d.data(), nullptr) < 0)
        fail("cannot read the shape of " + in(name_, file_));
    return d;
}

std::optional<uint64_t> Dataset::contiguous_offset() const {
    const std::string what = "cannot read the layout of " + in(name_, file_);
    Handle dcpl(check(H5Dget_create_plist(id_.get()), what));
    const H5D_layout_t layout = H5Pget_layout(dcpl.get());
    if (layout < 0) fail(what);
    if (layout != H5D_CONTIGUOUS) return std::nullopt;
    const haddr_t offset = H5Dget_offset(id_.get());
    if (offset == HADDR_UNDEF) {
        H5Eclear2(H5E_DEFAULT);
        return std::nullopt;
    }
    return static_cast<uint64_t>(offset);
}

void Dataset::set_extent(const std::vector<hsize_t>& d) {
    check_status(H5Dset_extent(id_.get(), d.data()),
                 "cannot grow dataset " + in(name_, file_) + " to " + std::to_string(d.at(0)));
}

namespace {

// Selects rows [begin, begin + rows) of `file_space` (every other axis whole) and makes a memory
// space of the same shape; with rows == 0 both select nothing.
Handle select_rows(hid_t file_space, uint64_t begin, uint64_t rows, const std::string& what) {
    int rank = H5Sget_simple_extent_ndims(file_space);
    if (rank < 1) fail(what + ": not an array");
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    H5Sget_simple_extent_dims(file_space, dims.data(), nullptr);
    if (rows == 0) {
        check_status(H5Sselect_none(file_space), what);
        std::vector<hsize_t> one(dims.size(), 1);
        Handle mem(check(H5Screate_simple(rank, one.data(), nullptr), what));
        check_status(H5Sselect_none(mem.get()), what);
        return mem;
    }
    if (begin + rows > dims[0]) {
        throw DatasetError(what + ": rows [" + std::to_string(begin) + ", " +
                           std::to_string(begin + rows) + ") past its " + std::to_string(dims[0]) +
                           " rows");
    }
    std::vector<hsize_t> start(dims.size(), 0), count = dims;
    start[0] = begin;
    count[0] = rows;
    check_status(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr,
                                     count.data(), nullptr),
                 what);
    return Handle(check(H5Screate_simple(rank, count.data(), nullptr), what));
}

}  // namespace

void Dataset::write_rows_raw(hid_t mem_type, hid_t xfer, uint64_t begin, uint64_t rows,
                             const void* data) {
    const std::string what = "cannot write dataset " + in(name_, file_);
    Handle file_space(check(H5Dget_space(id_.get()), what));
    Handle mem_space = select_rows(file_space.get(), begin, rows, what);
    static const uint8_t nothing = 0;  // HDF5 wants a buffer even for an empty selection
    check_status(H5Dwrite(id_.get(), mem_type, mem_space.get(), file_space.get(), xfer,
                          rows ? data : &nothing),
                 what);
}

void Dataset::read_rows_raw(hid_t mem_type, hid_t xfer, uint64_t begin, uint64_t rows,
                            void* data) const {
    const std::string what = "cannot read dataset " + in(name_, file_);
    Handle file_space(check(H5Dget_space(id_.get()), what));
    Handle mem_space = select_rows(file_space.get(), begin, rows, what);
    uint8_t nothing = 0;
    check_status(H5Dread(id_.get(), mem_type, mem_space.get(), file_space.get(), xfer,
                         rows ? data : &nothing),
                 what);
}

std::string Dataset::type_name() const {
    const std::string what = "cannot read the type of " + in(name_, file_);
    Handle type(check(H5Dget_type(id_.get()), what));
    const H5T_class_t cls = H5Tget_class(type.get());
    const size_t bits = H5Tget_size(type.get()) * 8;
    if (cls == H5T_INTEGER) {
        const H5T_sign_t sign = H5Tget_sign(type.get());
        if (sign < 0) fail(what);
        return (sign == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    }
    if (cls == H5T_FLOAT) return "float" + std::to_string(bits);
    if (cls == H5T_STRING) return "string";
    if (cls < 0) fail(what);
    return "HDF5 type class " + std::to_string(static_cast<int>(cls));
}

void Dataset::write_strings(const Transfer& xfer, const std::vector<std::string>& values,
                            bool write) {
    const std::string what = "cannot write dataset " + in(name_, file_);
    Handle type(check(H5Dget_type(id_.get()), what));
    size_t size = H5Tget_size(type.get());
    if (size == 0) fail(what);
    std::vector<char> buffer(std::max<size_t>(values.size(), 1) * size, '\0');
    for (size_t i = 0; i < values.size(); ++i) {
        std::memcpy(&buffer[i * size], values[i].data(), std::min(values[i].size(), size - 1));
    }
    Handle file_space(check(H5Dget_space(id_.get()), what));
    Handle mem_space = select_rows(file_space.get(), 0, write ? values.size() : 0, what);
    check_status(H5Dwrite(id_.get(), type.get(), mem_space.get(), file_space.get(), xfer.get(),
                          buffer.data()),
                 what);
}

// The bytes the dataset's shape and type declare, and the length of its file.
Dataset::Extent Dataset::extent(const std::string& what) const {
    Handle type(check(H5Dget_type(id_.get()), what));
    Extent e;
    e.declared = H5Tget_size(type.get());
    if (e.declared == 0) throw DatasetError(what + ": its type has no size");
    for (hsize_t n : dims()) {
        if (n != 0 && e.declared > std::numeric_limits<hsize_t>::max() / n)
            throw DatasetError(what + ": it declares more bytes than a file can hold");
        e.declared *= n;
    }
    Handle file(check(H5Iget_file_id(id_.get()), what));
    check_status(H5Fget_filesize(file.get(), &e.file_bytes), what);
    return e;
}

void Dataset::require_stored() const {
    const std::string what = "cannot read " + in(name_, file_);
    const Extent e = extent(what);
    // A contiguous dataset's storage size is what its own header claims, so the file's length
    // bounds it as well.
    const hsize_t stored = std::min<hsize_t>(H5Dget_storage_size(id_.get()), e.file_bytes);
    if (stored < e.declared)
        throw DatasetError(what + ": it declares " + std::to_string(e.declared) +
                           " bytes but the file holds " + std::to_string(stored));
}

void Dataset::require_inside_file() const {
    const std::string what = "cannot read " + in(name_, file_);
    Handle dcpl(check(H5Dget_create_plist(id_.get()), what));
    const H5D_layout_t layout = H5Pget_layout(dcpl.get());
    if (layout < 0) fail(what);
    if (layout != H5D_CONTIGUOUS && layout != H5D_COMPACT) return;
    const Extent e = extent(what);
    if (e.declared == 0) return;
    const std::string missing =
        what + ": its " + std::to_string(e.declared) + " bytes do not lie inside the file";
    // A compact dataset's bytes sit in its header, which says how many there are.
    if (layout == H5D_COMPACT) {
        if (H5Dget_storage_size(id_.get()) < e.declared) throw DatasetError(missing);
        return;
    }
    const haddr_t at = H5Dget_offset(id_.get());
    if (at == HADDR_UNDEF || at > e.file_bytes || e.declared > e.file_bytes - at)
        throw DatasetError(missing);
}

std::vector<std::string> Dataset::read_strings() const {
    const std::string what = "cannot read strings of " + in(name_, file_);
    Handle type(check(H5Dget_type(id_.get()), what));
    if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) != 0)
        throw DatasetError(what + ": not fixed-length strings");
    size_t size = H5Tget_size(type.get());
    std::vector<hsize_t> d = dims();
    if (d.size() != 1) throw DatasetError(what + ": not one-dimensional");
    require_stored();
    std::vector<char> buffer(std::max<hsize_t>(d[0], 1) * size, '\0');
    if (d[0] > 0) read_rows_raw(type.get(), H5P_DEFAULT, 0, d[0], buffer.data());
    std::vector<std::string> out(d[0]);
    for (size_t i = 0; i < out.size(); ++i) {
        const char* s = &buffer[i * size];
        out[i].assign(s, strnlen(s, size));
    }
    return out;
}

void Dataset::write_scalar_string(const Transfer& xfer, const std::string& value, bool write) {
    const std::string what = "cannot write dataset " + in(name_, file_);
    Handle type(check(H5Dget_type(id_.get()), what));
    size_t size = H5Tget_size(type.get());
    std::vector<char> buffer(size, '\0');
    std::memcpy(buffer.data(), value.data(), std::min(value.size(), size - 1));
    Handle file_space(check(H5Dget_space(id_.get()), what));
    Handle mem_space(check(H5Screate(H5S_SCALAR), what));
    if (!write) {
        check_status(H5Sselect_none(file_space.get()), what);
        check_status(H5Sselect_none(mem_space.get()), what);
    }
    check_status(H5Dwrite(id_.get(), type.get(), mem_space.get(), file_space.get(), xfer.get(),
                          buffer.data()),
                 what);
}

std::string Dataset::read_scalar_string() const {
    const std::string what = "cannot read string " + in(name_, file_);
    Handle type(check(H5Dget_type(id_.get()), what));
    if (H5Tget_class(type.get()) != H5T_STRING) throw DatasetError(what + ": not a string");
    if (H5Tis_variable_str(type.get()) > 0) {
        char* text = nullptr;
        check_status(H5Dread(id_.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &text), what);
        std::string out = text ? text : "";
        H5free_memory(text);
        return out;
    }
    require_stored();
    const size_t size = H5Tget_size(type.get());
    std::vector<char> buffer(size + 1, '\0');
    check_status(H5Dread(id_.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()),
                 what);
    return std::string(buffer.data(), strnlen(buffer.data(), size));
}

void Dataset::close() {
    if (!id_.reset()) fail("cannot close dataset " + in(name_, file_));
}

// --- File -------------------------------------------------------------------------------------

File File::create_parallel(MPI_Comm comm, const std::string& path) {
    silence_error_stack();
    Handle fapl = file_access(comm, path);
    File f;
    f.path_ = path;
    f.mpi_io_path_ = std::make_unique<MpiIoPath>(path);
    f.id_ = Handle(
        check(H5Fcreate(f.mpi_io_path_->get().c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()),
              "cannot create HDF5 file '" + path + "'"));
    return f;
}

File File::open_parallel(MPI_Comm comm, const std::string& path) {
    silence_error_stack();
    Handle fapl = file_access(comm, path);
    File f;
    f.path_ = path;
    f.mpi_io_path_ = std::make_unique<MpiIoPath>(path);
    f.id_ = Handle(check(H5Fopen(f.mpi_io_path_->get().c_str(), H5F_ACC_RDWR, fapl.get()),
                         "cannot open HDF5 file '" + path + "' for writing"));
    f.read_layout();
    return f;
}

File File::open_read(const std::string& path) {
    silence_error_stack();
    File f;
    f.path_ = path;
    f.id_ = Handle(check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                         "cannot open HDF5 file '" + path + "'"));
    f.read_layout();
    return f;
}

void File::read_layout() {
    const std::string what = "cannot read the layout of HDF5 file '" + path_ + "'";
    Handle fcpl(check(H5Fget_create_plist(id_.get()), what));
    size_t offset_bytes = 0, length_bytes = 0;
    hsize_t userblock = 0;
    check_status(H5Pget_sizes(fcpl.get(), &offset_bytes, &length_bytes), what);
    check_status(H5Pget_userblock(fcpl.get(), &userblock), what);
    layout_ = FileLayout{userblock, static_cast<int>(offset_bytes), static_cast<int>(length_bytes)};
}

// Guards the groups a lookup of `name` reads names in: the root, then each parent; false when
// a parent is missing.
bool File::guard_parents(const std::string& name) const {
    guard_group("/");
    size_t pos = 0;
    while ((pos = name.find('/', pos + 1)) != std::string::npos) {
        const std::string parent = name.substr(0, pos);
        if (H5Lexists(id_.get(), parent.c_str(), H5P_DEFAULT) <= 0) return false;
        guard_group(parent);
    }
    return true;
}

void File::guard_group(const std::string& group) const {
    if (!layout_ || !guarded_.insert(group).second) return;
    H5O_info_t info;
    if (H5Oget_info_by_name2(id_.get(), group.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
        return;  // the lookup that follows reports it
    if (info.type == H5O_TYPE_GROUP) require_finite_heap(path_, *layout_, info.addr, group);
}

void File::create_group(const std::string& name) {
    Handle g(check(H5Gcreate2(id_.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                   "cannot create group " + in(name, path_)));
}

bool File::exists(const std::string& name) const {
    // H5Lexists only looks at the last path component, so walk the parents first.
    if (!guard_parents(name)) return false;
    htri_t found = H5Lexists(id_.get(), name.c_str(), H5P_DEFAULT);
    if (found < 0) fail("cannot look for " + in(name, path_));
    return found > 0;
}

Dataset File::create_dataset(const std::string& name, hid_t type, const std::vector<hsize_t>& dims,
                             const DatasetOptions& options) {
    const std::string what = "cannot create dataset " + in(name, path_);
    const std::vector<hsize_t>& maxdims = options.maxdims.empty() ? dims : options.maxdims;
    Handle space(
        check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxdims.data()), what));
    Handle dcpl(check(H5Pcreate(H5P_DATASET_CREATE), what));
    if (!options.chunk.empty()) {
        check_status(
            H5Pset_chunk(dcpl.get(), static_cast<int>(options.chunk.size()), options.chunk.data()),
            what);
    }
    // Space is allocated now, while every rank is in this collective call, so that no later write
    // changes metadata; fill values are written only where asked, never into gigabytes of frames.
    check_status(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY), what);
    if (options.fill_value)
        check_status(H5Pset_fill_value(dcpl.get(), type, options.fill_value), what);
    check_status(H5Pset_fill_time(dcpl.get(),
                                  options.write_fill ? H5D_FILL_TIME_ALLOC : H5D_FILL_TIME_NEVER),
                 what);
    Handle id(check(H5Dcreate2(id_.get(), name.c_str(), type, space.get(), H5P_DEFAULT, dcpl.get(),
                               H5P_DEFAULT),
                    what));
    return Dataset(std::move(id), name, path_);
}

Dataset File::create_scalar(const std::string& name, hid_t type) {
    const std::string what = "cannot create dataset " + in(name, path_);
    Handle space(check(H5Screate(H5S_SCALAR), what));
    Handle id(check(H5Dcreate2(id_.get(), name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                               H5P_DEFAULT),
                    what));
    return Dataset(std::move(id), name, path_);
}

Dataset File::open_dataset(const std::string& name) const {
    if (!exists(name)) throw DatasetError("dataset " + in(name, path_) + " is missing");
    // cardsynth never writes shared object-header messages, and libhdf5 1.10 follows a null
    // block while decoding some damaged ones, so a header that has any is refused unread.
    H5O_info_t info;
    check_status(H5Oget_info_by_name2(id_.get(), name.c_str(), &info, H5O_INFO_BASIC | H5O_INFO_HDR,
                                      H5P_DEFAULT),
                 "cannot read the header of dataset " + in(name, path_));
    if (info.hdr.mesg.shared != 0)
        throw DatasetError("dataset " + in(name, path_) +
                           " has shared header messages, which cardsynth never writes");
    if (layout_) require_nonzero_chunks(path_, *layout_, info.addr, name);
    Handle id(check(H5Dopen2(id_.get(), name.c_str(), H5P_DEFAULT),
                    "cannot open dataset " + in(name, path_)));
    Dataset d(std::move(id), name, path_);
    if (layout_) d.require_inside_file();
    return d;
}

bool File::has_attribute(const std::string& name) const {
    return has_attribute_of(".", name);
}

bool File::has_attribute_of(const std::string& object, const std::string& name) const {
    guard_parents(object);
    htri_t found = H5Aexists_by_name(id_.get(), object.c_str(), name.c_str(), H5P_DEFAULT);
    if (found < 0) fail("cannot look for attribute " + attribute_in(object, name, path_));
    return found > 0;
}

void File::write_attribute(const std::string& name, const std::string& value) {
    write_attribute_of(".", name, value);
}

void File::write_attribute_of(const std::string& object, const std::string& name,
                              const std::string& value) {
    const std::string what = "cannot write attribute " + attribute_in(object, name, path_);
    Handle type = string_type(value.size() + 1);
    if (has_attribute_of(object, name))
        check_status(H5Adelete_by_name(id_.get(), object.c_str(), name.c_str(), H5P_DEFAULT), what);
    Handle space(check(H5Screate(H5S_SCALAR), what));
    Handle attr(check(H5Acreate_by_name(id_.get(), object.c_str(), name.c_str(), type.get(),
                                        space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      what));
    std::vector<char> buffer(value.begin(), value.end());
    buffer.push_back('\0');
    check_status(H5Awrite(attr.get(), type.get(), buffer.data()), what);
}

void File::write_attribute_raw(const std::string& name, hid_t type, const void* value) {
    const std::string what = "cannot write attribute " + in(name, path_);
    Handle attr;
    if (has_attribute(name)) {
        attr = Handle(check(H5Aopen(id_.get(), name.c_str(), H5P_DEFAULT), what));
    } else {
        Handle space(check(H5Screate(H5S_SCALAR), what));
        attr = Handle(
            check(H5Acreate2(id_.get(), name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                  what));
    }
    check_status(H5Awrite(attr.get(), type, value), what);
}

std::string File::read_string_attribute(const std::string& name) const {
    return read_string_attribute_of(".", name);
}

std::string File::read_string_attribute_of(const std::string& object,
                                           const std::string& name) const {
    const std::string where = attribute_in(object, name, path_);
    const std::string what = "cannot read attribute " + where;
    if (!has_attribute_of(object, name)) throw DatasetError("attribute " + where + " is missing");
    Handle attr(check(
        H5Aopen_by_name(id_.get(), object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), what));
    Handle type(check(H5Aget_type(attr.get()), what));
    if (H5Tget_class(type.get()) != H5T_STRING)
        throw DatasetError("attribute " + where + " is not a string");
    if (H5Tis_variable_str(type.get()) > 0) {
        char* text = nullptr;
        check_status(H5Aread(attr.get(), type.get(), &text), what);
        std::string out = text ? text : "";
        H5free_memory(text);
        return out;
    }
    const size_t size = H5Tget_size(type.get());
    if (size == 0) throw DatasetError(what + ": the string type has no size");
    // A damaged or crafted file can declare a string far larger than the bytes it holds: check
    // against what is stored before allocating for it.
    const hsize_t stored = H5Aget_storage_size(attr.get());
    if (stored < size)
        throw DatasetError(what + ": it declares " + std::to_string(size) +
                           " bytes but the file holds " + std::to_string(stored));
    std::vector<char> buffer(size + 1, '\0');
    check_status(H5Aread(attr.get(), type.get(), buffer.data()), what);
    return std::string(buffer.data(), strnlen(buffer.data(), size));
}

void File::read_attribute_raw(const std::string& name, hid_t mem_type, void* value) const {
    const std::string what = "cannot read attribute " + in(name, path_);
    if (!has_attribute(name)) throw DatasetError("attribute " + in(name, path_) + " is missing");
    Handle attr(check(H5Aopen(id_.get(), name.c_str(), H5P_DEFAULT), what));
    Handle type(check(H5Aget_type(attr.get()), what));
    if (H5Tget_class(type.get()) != H5T_INTEGER)
        throw DatasetError("attribute " + in(name, path_) + " is not an integer");
    check_status(H5Aread(attr.get(), mem_type, value), what);
}

int64_t File::read_int_attribute(const std::string& name) const {
    int64_t value = 0;
    read_attribute_raw(name, H5T_NATIVE_INT64, &value);
    return value;
}

uint64_t File::read_uint_attribute(const std::string& name) const {
    uint64_t value = 0;
    read_attribute_raw(name, H5T_NATIVE_UINT64, &value);
    return value;
}

void File::flush() {
    check_status(H5Fflush(id_.get(), H5F_SCOPE_GLOBAL), "cannot flush '" + path_ + "'");
}

void File::close() {
    if (!id_.reset()) fail("cannot close '" + path_ + "'");
    mpi_io_path_.reset();
}

}  // namespace cardsynth::h5
