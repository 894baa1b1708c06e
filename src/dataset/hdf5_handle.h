// The one place where cardsynth calls HDF5. An hid_t lives only inside a Handle, which closes it
// with the matching H5*close; every call is checked here and a failure becomes one DatasetError
// sentence that names the operation and the object ("cannot create dataset '/labels/corners' in
// 'out.h5'"). Files, datasets and transfers are small value types over those handles, so the
// dataset writer and reader never see a raw id or a negative return code. Only the dataset
// sources and their tests include this header.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <hdf5.h>
#include <mpi.h>

#include "dataset/header_check.h"

namespace cardsynth::h5 {

// Owns one HDF5 identifier (file, group, dataset, attribute, dataspace, datatype or property
// list) and closes it with the right call. Move-only.
class Handle {
  public:
    Handle() = default;
    explicit Handle(hid_t id) : id_(id) {}
    ~Handle() { reset(); }
    Handle(Handle&& other) noexcept : id_(other.id_) { other.id_ = H5I_INVALID_HID; }
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    hid_t get() const { return id_; }
    bool valid() const { return id_ >= 0; }
    // Closes now; returns false when HDF5 refused to close the object.
    bool reset();

  private:
    hid_t id_ = H5I_INVALID_HID;
};

// HDF5 prints its whole error stack by default; we print one sentence instead. Idempotent.
void silence_error_stack();

// The memory type of T, which is also the type the file stores (native little-endian), so that a
// transfer never needs a conversion (a conversion would break collective I/O).
template <class T>
hid_t native_type();
template <>
inline hid_t native_type<uint8_t>() {
    return H5T_NATIVE_UINT8;
}
template <>
inline hid_t native_type<uint16_t>() {
    return H5T_NATIVE_UINT16;
}
template <>
inline hid_t native_type<int32_t>() {
    return H5T_NATIVE_INT32;
}
template <>
inline hid_t native_type<uint64_t>() {
    return H5T_NATIVE_UINT64;
}
template <>
inline hid_t native_type<int64_t>() {
    return H5T_NATIVE_INT64;
}
template <>
inline hid_t native_type<float>() {
    return H5T_NATIVE_FLOAT;
}
template <>
inline hid_t native_type<double>() {
    return H5T_NATIVE_DOUBLE;
}

// A fixed-length, null-terminated UTF-8 string type of `size` bytes (terminator included).
Handle string_type(size_t size);

// A dataset transfer property list. Collective ones make every rank take part in each transfer
// and can tell afterwards whether HDF5 kept it collective.
class Transfer {
  public:
    static Transfer collective();
    static Transfer independent();
    hid_t get() const { return plist_.get(); }
    bool is_collective() const { return collective_; }
    // Empty when the last transfer through this list was collective on every rank; otherwise
    // the reason HDF5 gave (H5Pget_mpio_no_collective_cause, local and global).
    std::string no_collective_cause() const;

  private:
    Handle plist_;
    bool collective_ = false;
};

// How a dataset is created.
struct DatasetOptions {
    std::vector<hsize_t> chunk;        // empty: contiguous
    std::vector<hsize_t> maxdims;      // empty: fixed at dims; H5S_UNLIMITED for growable axes
    const void* fill_value = nullptr;  // of the dataset's type; nullptr: HDF5's zero default
    bool write_fill = false;           // write the fill value at allocation (small datasets only)
};

class Dataset {
  public:
    Dataset() = default;
    Dataset(Handle id, std::string name, std::string file)
        : id_(std::move(id)), name_(std::move(name)), file_(std::move(file)) {}

    bool valid() const { return id_.valid(); }
    const std::string& name() const { return name_; }
    std::vector<hsize_t> dims() const;
    // Where the bytes of a contiguous dataset start in the file; nothing for a chunked one, or
    // for one whose space is not allocated yet.
    std::optional<uint64_t> contiguous_offset() const;
    // Grows (or shrinks) an extendible dataset. Collective under MPI-IO: same size on every rank.
    void set_extent(const std::vector<hsize_t>& dims);

    // Writes rows [begin, begin + rows) along the first axis, every other axis whole, from a
    // row-major buffer. rows == 0 selects nothing, which is how a rank with no work still takes
    // part in a collective write.
    template <class T>
    void write_rows(const Transfer& xfer, uint64_t begin, uint64_t rows, const T* data) {
        write_rows_raw(native_type<T>(), xfer.get(), begin, rows, data);
    }
    template <class T>
    void read_rows(uint64_t begin, uint64_t rows, T* data, const Transfer* xfer = nullptr) const {
        read_rows_raw(native_type<T>(), xfer ? xfer->get() : H5P_DEFAULT, begin, rows, data);
    }
    // The same, with the memory type given (a type chosen at run time, such as a label column's).
    void write_rows_raw(hid_t mem_type, hid_t xfer, uint64_t begin, uint64_t rows,
                        const void* data);
    void read_rows_raw(hid_t mem_type, hid_t xfer, uint64_t begin, uint64_t rows, void* data) const;
    // The stored element type as numpy names it ("uint16", "float32", ...); for a type numpy has
    // no plain name for, a description of it.
    std::string type_name() const;
    // Fixed-length strings, whole dataset. `write_strings` on a rank with `write` false selects
    // nothing (only one rank needs to carry the data of a collective write).
    void write_strings(const Transfer& xfer, const std::vector<std::string>& values, bool write);
    std::vector<std::string> read_strings() const;
    // Throws DatasetError unless the file stores every byte the dataset declares (its shape times
    // its type's size): cardsynth writes the tables it reads whole (/cards, /popularity),
    // uncompressed, and a damaged or crafted file must not size a buffer past what it holds.
    void require_stored() const;
    // Throws DatasetError when a contiguous or compact dataset's bytes are not all in the file
    // (unallocated, past its end, fewer in the header than the shape declares): libhdf5 1.10
    // reads such a dataset through a null buffer. Checked on every dataset of a file opened from
    // disk.
    void require_inside_file() const;
    // A scalar fixed-length string dataset (/config).
    void write_scalar_string(const Transfer& xfer, const std::string& value, bool write);
    std::string read_scalar_string() const;

    void close();

  private:
    struct Extent {
        hsize_t declared = 0;    // shape times type size
        hsize_t file_bytes = 0;  // the length of the file
    };
    Extent extent(const std::string& what) const;

    Handle id_;
    std::string name_;
    std::string file_;
};

// The name under which MPI-IO opens `path`: the path itself, or, for a path too long for Open
// MPI's fixed buffers, /proc/self/fd/N/NAME through a descriptor of its directory that this object
// holds open. Throws DatasetError when even that is too long (a file name of more than 170 bytes).
class MpiIoPath {
  public:
    explicit MpiIoPath(const std::string& path);
    ~MpiIoPath();
    MpiIoPath(const MpiIoPath&) = delete;
    MpiIoPath& operator=(const MpiIoPath&) = delete;
    const std::string& get() const { return path_; }

  private:
    int dir_fd_ = -1;
    std::string path_;
};

class File {
  public:
    // Through the MPI-IO driver (also for one process), with collective metadata operations.
    // Every rank of `comm` must call these.
    static File create_parallel(MPI_Comm comm, const std::string& path);
    static File open_parallel(MPI_Comm comm, const std::string& path);
    // One process, read-only, default driver.
    static File open_read(const std::string& path);

    bool valid() const { return id_.valid(); }
    const std::string& path() const { return path_; }

    void create_group(const std::string& name);
    bool exists(const std::string& name) const;
    Dataset create_dataset(const std::string& name, hid_t type, const std::vector<hsize_t>& dims,
                           const DatasetOptions& options = {});
    // Creates a scalar dataset (rank 0 dataspace) of `type`.
    Dataset create_scalar(const std::string& name, hid_t type);
    Dataset open_dataset(const std::string& name) const;

    // Attributes of the root group. Under MPI-IO these are collective: same value everywhere.
    bool has_attribute(const std::string& name) const;
    void write_attribute(const std::string& name, const std::string& value);
    template <class T>
    void write_attribute(const std::string& name, T value) {
        write_attribute_raw(name, native_type<T>(), &value);
    }
    std::string read_string_attribute(const std::string& name) const;
    // Any integer attribute, converted by HDF5 to int64.
    int64_t read_int_attribute(const std::string& name) const;
    uint64_t read_uint_attribute(const std::string& name) const;
    // String attributes of another object of the file (a group or dataset, by path).
    bool has_attribute_of(const std::string& object, const std::string& name) const;
    void write_attribute_of(const std::string& object, const std::string& name,
                            const std::string& value);
    std::string read_string_attribute_of(const std::string& object, const std::string& name) const;

    void flush();
    // Closes the file; every dataset of it must be closed first.
    void close();

  private:
    void write_attribute_raw(const std::string& name, hid_t type, const void* value);
    void read_attribute_raw(const std::string& name, hid_t mem_type, void* value) const;
    // Files opened from disk: their groups' name heaps are checked (dataset/header_check.h)
    // before the library looks a name up in them, once per group.
    void read_layout();
    bool guard_parents(const std::string& name) const;
    void guard_group(const std::string& group) const;

    std::unique_ptr<MpiIoPath> mpi_io_path_;  // outlives id_: MPI-IO may use the name until close
    Handle id_;
    std::string path_;
    std::optional<FileLayout> layout_;       // set when the file came from disk
    mutable std::set<std::string> guarded_;  // the groups checked so far
};

}  // namespace cardsynth::h5
