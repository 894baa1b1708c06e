#include "base/input_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "base/error.h"
#include "base/text.h"

namespace cardsynth {

std::string read_input_file(const std::string& path, int64_t limit, const std::string& what) {
    const std::string name = what + " '" + path + "'";
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
        throw InputError("cannot read " + name + ": " + std::strerror(errno));
    // Devices, FIFOs and sockets have no size to check and may never end.
    if (S_ISDIR(st.st_mode)) throw InputError(name + " is a directory, not a file");
    if (!S_ISREG(st.st_mode)) throw InputError(name + " is not a regular file");
    if (st.st_size > limit)
        throw InputError(name + " is " + byte_size_text(static_cast<double>(st.st_size)) +
                         ", more than the limit of " + byte_size_text(static_cast<double>(limit)));
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) throw InputError("cannot read " + name + ": " + std::strerror(errno));
    std::string text(static_cast<size_t>(st.st_size), '\0');
    size_t got = std::fread(text.data(), 1, text.size(), file.get());
    // The file may have changed since stat: read on, one byte past the limit at most.
    char chunk[4096];
    while (!std::ferror(file.get()) && !std::feof(file.get()) &&
           static_cast<int64_t>(got) <= limit) {
        const size_t n = std::fread(chunk, 1, sizeof chunk, file.get());
        text.resize(got);
        text.append(chunk, n);
        got += n;
    }
    if (std::ferror(file.get())) throw InputError("cannot read " + name + ": read error");
    if (static_cast<int64_t>(got) > limit)
        throw InputError(name + " grew past the limit of " +
                         byte_size_text(static_cast<double>(limit)) + " while being read");
    text.resize(got);
    return text;
}

}  // namespace cardsynth
