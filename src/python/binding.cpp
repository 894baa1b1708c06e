// The Python module cardsynth._cardsynth: run/generator.h for Python. Configuration comes as a
// YAML path or a dict plus --set style overrides, images leave as numpy arrays the renderer drew
// into (no copy), labels as numpy arrays per /labels column, and the library's exceptions arrive
// as Python exceptions of the same kinds with the command line's one-line messages. The GIL is
// released while the catalog loads and while images render.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fresh_image.h"
#include "config/config.h"
#include "run/generator.h"

namespace py = pybind11;
using namespace cardsynth;

namespace {

// The Python exception types, one per kind of base/error.h; made when the module loads. Never
// freed: a static destructor would release them after the interpreter has gone.
struct ErrorTypes {
    py::object error, config, input, dataset, mpi, interrupted;
};
ErrorTypes& error_types() {
    static ErrorTypes* types = new ErrorTypes;
    return *types;
}

py::object new_error_type(py::module_& m, const char* name, const char* doc, py::tuple bases) {
    const std::string qualified = std::string("cardsynth.") + name;
    PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
    if (type == nullptr) throw py::error_already_set();
    py::object object = py::reinterpret_steal<py::object>(type);
    m.attr(name) = object;
    return object;
}

void add_error_types(py::module_& m) {
    ErrorTypes& t = error_types();
    const py::object value_error = py::reinterpret_borrow<py::object>(PyExc_ValueError);
    t.error =
        new_error_type(m, "Error", "A cardsynth error; exit_code is the command line's.",
                       py::make_tuple(py::reinterpret_borrow<py::object>(PyExc_RuntimeError)));
    t.config = new_error_type(m, "ConfigError", "A bad configuration key, type or value.",
                              py::make_tuple(t.error, value_error));
    t.input = new_error_type(m, "InputError",
                             "A card image, popularity table or background that cannot be used.",
                             py::make_tuple(t.error, value_error));
    t.dataset =
        new_error_type(m, "DatasetError", "Reading or writing a dataset failed.",
                       py::make_tuple(t.error, py::reinterpret_borrow<py::object>(PyExc_OSError)));
    t.mpi = new_error_type(m, "MpiError", "An MPI call failed.", py::make_tuple(t.error));
    t.interrupted =
        new_error_type(m, "Interrupted", "Stopped by a signal.", py::make_tuple(t.error));
    py::register_exception_translator([](std::exception_ptr p) {
        if (!p) return;
        try {
            std::rethrow_exception(p);
        } catch (const Error& e) {
            const ErrorTypes& types = error_types();
            const py::object& type = dynamic_cast<const ConfigError*>(&e)    ? types.config
                                     : dynamic_cast<const InputError*>(&e)   ? types.input
                                     : dynamic_cast<const DatasetError*>(&e) ? types.dataset
                                     : dynamic_cast<const MpiError*>(&e)     ? types.mpi
                                     : dynamic_cast<const Interrupted*>(&e)  ? types.interrupted
                                                                             : types.error;
            py::object instance = type(e.what());
            instance.attr("exit_code") = e.exit_code();
            PyErr_SetObject(type.ptr(), instance.ptr());
        }
    });
}

// A Python value as YAML text (JSON is YAML); numpy scalars and arrays as plain numbers and lists.
std::string yaml_text(const py::handle& value) {
    static const py::object* dumps = new py::object(py::module_::import("json").attr("dumps"));
    const py::cpp_function plain([](py::object o) -> py::object {
        if (py::hasattr(o, "tolist")) return o.attr("tolist")();
        if (py::hasattr(o, "__fspath__")) return o.attr("__fspath__")();
        throw py::type_error(std::string("a ") +
                             py::str(o.get_type().attr("__name__")).cast<std::string>() +
                             " cannot be a configuration value");
    });
    return (*dumps)(value, py::arg("default") = plain).cast<std::string>();
}

// The configuration of a Generator: defaults < `config` (None, a YAML path or a dict) < the
// overrides, each KEY=VALUE as --set takes it.
Config resolve(const py::object& config, const py::kwargs& overrides) {
    Config c;
    if (py::isinstance<py::dict>(config)) {
        apply_yaml(c, yaml_text(config), "the config dict");
    } else if (py::isinstance<py::str>(config) || py::hasattr(config, "__fspath__")) {
        apply_yaml_file(c, py::module_::import("os").attr("fspath")(config).cast<std::string>());
    } else if (!config.is_none()) {
        throw py::type_error("config must be a YAML file path, a dict or None, not " +
                             py::str(config.get_type().attr("__name__")).cast<std::string>());
    }
    for (const auto& item : overrides)
        apply_set(c, py::str(item.first).cast<std::string>() + "=" + yaml_text(item.second));
    validate(c);
    return c;
}

py::dtype numpy_type(ElementType type) {
    return py::dtype(type_name(type));
}

// A column's array for `n` images (none: the shape of one image's entries).
py::array label_array(const LabelColumn& column, int max_cards, const py::ssize_t* n) {
    std::vector<py::ssize_t> shape;
    if (n) shape.push_back(*n);
    if (column.extent == LabelExtent::PerSlot) shape.push_back(max_cards);
    for (int a = 0; a < column.shape.rank; ++a) shape.push_back(column.shape.dims[a]);
    return py::array(numpy_type(column.type), shape);
}

// `out`, when given, as the array of `n` images the renderer may draw into: uint8, C-ordered,
// writeable, [n, H, W, 3]; anything else is a ValueError (a converted copy would be drawn into
// and lost).
py::array_t<uint8_t> output_array(const py::object& out, const std::vector<py::ssize_t>& shape) {
    if (out.is_none()) return py::array_t<uint8_t>(shape);
    const auto fits = [&](const py::array& a) {
        return a.dtype().is(py::dtype::of<uint8_t>()) && (a.flags() & py::array::c_style) &&
               a.writeable() && std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()) == shape;
    };
    const auto text = [](const py::ssize_t* dims, py::ssize_t n) {
        std::string t;
        for (py::ssize_t k = 0; k < n; ++k) t += (k ? ", " : "") + std::to_string(dims[k]);
        return "[" + t + "]";
    };
    if (!py::isinstance<py::array>(out))
        throw py::value_error("out must be a uint8 numpy array, got a " +
                              py::str(out.get_type().attr("__name__")).cast<std::string>());
    const py::array a = py::reinterpret_borrow<py::array>(out);
    if (!fits(a))
        throw py::value_error("out must be a writeable C-ordered uint8 array of shape " +
                              text(shape.data(), static_cast<py::ssize_t>(shape.size())) +
                              ", got " + py::str(a.dtype()).cast<std::string>() + " " +
                              text(a.shape(), a.ndim()) +
                              ((a.flags() & py::array::c_style) ? "" : ", not C-ordered") +
                              (a.writeable() ? "" : ", read-only"));
    return py::reinterpret_borrow<py::array_t<uint8_t>>(out);
}

// Renders `indices` into images [n, H, W, 3] (`out`, or a fresh array; [H, W, 3] when `single`)
// and a dict of the label columns, each [n, ...] (or one image's entries), with "masks" [n, H, W]
// when the configuration asks for masks (output.masks), as the file would hold /masks.
py::tuple render(Generator& gen, const std::vector<int64_t>& indices, bool single,
                 const py::object& out = py::none()) {
    const Config& c = gen.config();
    const py::ssize_t n = static_cast<py::ssize_t>(indices.size());
    std::vector<py::ssize_t> shape{c.frame.height, c.frame.width, 3};
    if (!single) shape.insert(shape.begin(), n);
    py::array_t<uint8_t> images = output_array(out, shape);
    py::dict labels;
    std::vector<uint8_t*> columns;
    for (const LabelColumn& column : gen.label_schema().columns()) {
        py::array a = label_array(column, c.scene.max_cards, single ? nullptr : &n);
        columns.push_back(static_cast<uint8_t*>(a.mutable_data()));
        labels[column.name] = a;
    }
    uint8_t* masks = nullptr;
    if (c.output.masks) {
        shape.pop_back();
        py::array_t<uint8_t> m(shape);
        masks = m.mutable_data();
        labels["masks"] = m;
    }
    uint8_t* pixels = images.mutable_data();
    {
        py::gil_scoped_release release;
        // A fresh array (a DataLoader worker's shared-memory chunk above all) is mapped in one
        // call rather than by a fault per page as the render threads first write it.
        map_pages(pixels, static_cast<size_t>(images.nbytes()));
        gen.render(indices, pixels, columns, masks);
    }
    return py::make_tuple(images, labels);
}

std::unique_ptr<Generator> make_generator(const py::object& config, int processes,
                                          const py::kwargs& overrides) {
    GeneratorOptions options;
    options.threads_given = overrides.contains("threads");
    options.processes = processes;
    const Config resolved = resolve(config, overrides);
    py::gil_scoped_release release;
    return std::make_unique<Generator>(resolved, options);
}

py::dict stage_seconds(const Generator& gen) {
    const StageTimes t = gen.times();
    py::dict d;
    d["images"] = gen.images_made();
    d["sample"] = t.sample;
    d["render"] = t.render;
    d["labels"] = t.labels;
    return d;
}

}  // namespace

PYBIND11_MODULE(_cardsynth, m) {
    m.doc() = "The cardsynth renderer in this process (see cardsynth.Generator).";
    add_error_types(m);
    py::class_<Generator>(m, "Generator", R"(Images by index, with no file in between.

Generator(config=None, *, processes=1, **overrides)

config: None (the defaults), a YAML file path (as --config) or a dict of the same keys.
overrides: dotted keys with Python values, exactly as --set KEY=VALUE takes them, e.g.
    Generator("configs/w1.yaml", **{"scene.blur_sigma": [0, 1]}, threads=2, device="cpu").
    threads= as --threads (auto, conservative or N; given here, OMP_NUM_THREADS is ignored).
processes: how many processes of this machine each run a Generator (DataLoader workers):
    threads auto and conservative share the cores among them, as among the ranks of a node.

The catalog and backgrounds load once. Image i is byte-identical to image i of
`cardsynth generate` with the same configuration (raw storage). Make a Generator in the
process that renders with it: one made before a fork raises cardsynth.Error in the child.
Errors raise cardsynth.ConfigError or InputError (both ValueError) or cardsynth.Error, with
the command line's one-line message.)")
        .def(py::init(&make_generator), py::arg("config") = py::none(), py::kw_only(),
             py::arg("processes") = 1)
        .def(
            "render", [](Generator& g, int64_t i) { return render(g, {i}, true); }, py::arg("i"),
            "Image i: (image uint8 [H, W, 3] RGB, labels {column: array}), the labels one image's "
            "entries of each /labels column of the file (count [], card_id [M], corners [M, 4, 2], "
            "...; slots past count padded), and masks [H, W] as /masks when output.masks is on.")
        .def(
            "render_batch",
            [](Generator& g, const std::vector<int64_t>& indices, const py::object& out) {
                return render(g, indices, false, out);
            },
            py::arg("indices"), py::arg("out") = py::none(),
            "Images `indices` on the generator's threads: (images uint8 [N, H, W, 3], labels "
            "{column: array [N, ...]}), stacked as the file stores them, the fastest form: one "
            "array each, drawn into in place. out: None, or the uint8 C-ordered [N, H, W, 3] "
            "array to draw into (shared memory, a reused buffer); it is returned.")
        .def_property_readonly("width", [](const Generator& g) { return g.config().frame.width; })
        .def_property_readonly("height", [](const Generator& g) { return g.config().frame.height; })
        .def_property_readonly("max_cards",
                               [](const Generator& g) { return g.config().scene.max_cards; })
        .def_property_readonly("seed", [](const Generator& g) { return g.config().seed; })
        .def_property_readonly("threads", &Generator::threads)
        .def_property_readonly("device", &Generator::renderer_name,
                               "The renderer: cpu, or cuda:N (NAME).")
        .def_property_readonly(
            "config", [](const Generator& g) { return to_yaml(g.config()); },
            "The resolved configuration, as YAML (the file's /config).")
        .def_property_readonly(
            "card_names",
            [](const Generator& g) {
                py::list names;
                for (const Card& card : g.catalog().cards())
                    names.append(py::bytes(card.name).attr("decode")("utf-8", "replace"));
                return names;
            },
            "The catalog's card names; labels' card_id indexes them (the file's /cards/name).")
        .def_property_readonly(
            "label_columns",
            [](const Generator& g) {
                return py::module_::import("json").attr("loads")(g.label_schema().to_json());
            },
            "The label columns, described as the file's /labels `columns` attribute.")
        .def("stage_seconds", &stage_seconds,
             "CPU seconds of each stage (sample, render, labels) over the images made so far, "
             "and their number: the figures of the command line's [timing] line.");
}
