// decode_grid: decodes every variable of a .inr file on a sampling grid and
// writes a VTK XML ImageData file (.vti) that ParaView opens.
//
//   decode_grid FILE NX NY NZ OUT.vti [TIME]
//
// The grid has NX x NY x NZ points spread over the domain's bounds
// (inr_grid_geometry gives its origin and spacing). Point variables become
// PointData, cell variables (evaluated at cell centers) CellData. Without
// TIME, the first time step is decoded. Progress goes to stderr.
//
// The .vti is written here, without VTK: every array is inline binary, one
// base64 stream of a UInt64 byte count and the float32 values (VTK's layout
// for uncompressed inline data). Not raw appended data, VTK's default: with
// Debian 12's current expat (2.5.0-1+deb12u5, reparse deferral backported),
// ParaView 5.11 cannot parse raw or base64 appended data any more. The file
// appears atomically: it is written to OUT.vti.tmp, then renamed.
//
// Exit status: 0 on success, 1 on failure (the libinr status and message go to
// stderr), 2 for bad arguments.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <inr.h>

namespace {

// A failed libinr call: what was called, its status and the library's message.
class InrError : public std::runtime_error {
 public:
  InrError(const char* what, inr_status status)
      : std::runtime_error(std::string(what) + " failed: " +
                           inr_status_name(static_cast<int32_t>(status)) + ": " +
                           inr_last_error_message()) {}
};

void check(inr_status status, const char* what) {
  if (status != INR_OK) throw InrError(what, status);
}

// Owns an inr_model: closed by inr_close when the Model goes away.
class Model {
 public:
  explicit Model(const std::string& path) {
    inr_model* raw = nullptr;
    check(inr_open(path.c_str(), &raw), "inr_open");
    handle_.reset(raw);
  }
  const inr_model* get() const { return handle_.get(); }

 private:
  struct Closer {
    void operator()(inr_model* model) const noexcept { inr_close(model); }
  };
  std::unique_ptr<inr_model, Closer> handle_;
};

struct Variable {
  std::string name;
  uint32_t components = 0;
  inr_association association = INR_ASSOCIATION_POINT;
  std::vector<float> values;
};

// Prints whole percents to stderr as they change; never cancels.
bool print_progress(void* user_data, double fraction) {
  int& last = *static_cast<int*>(user_data);
  const int percent = static_cast<int>(fraction * 100.0);
  if (percent != last) {
    last = percent;
    std::fprintf(stderr, "\rdecode_grid: decoding %3d%%", percent);
    std::fflush(stderr);
  }
  return true;
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

// Text of a double that reads back as the same value (short when possible).
std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.15g", value);
  if (std::strtod(buffer, nullptr) != value) {
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
  }
  return buffer;
}

// ` Scalars="a" Vectors="b"` for the names that are set.
std::string active_attributes(const std::string (&names)[2]) {
  std::string out;
  if (!names[0].empty()) out += " Scalars=\"" + xml_escape(names[0]) + "\"";
  if (!names[1].empty()) out += " Vectors=\"" + xml_escape(names[1]) + "\"";
  return out;
}

bool host_is_little_endian() {
  const uint16_t one = 1;
  unsigned char first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

// Base64 (RFC 4648, with padding) of `n` bytes.
std::string base64(const unsigned char* data, size_t n) {
  static const char digits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t b = (uint32_t{data[i]} << 16) | (i + 1 < n ? uint32_t{data[i + 1]} << 8 : 0) |
                       (i + 2 < n ? uint32_t{data[i + 2]} : 0);
    out += digits[(b >> 18) & 63];
    out += digits[(b >> 12) & 63];
    out += i + 1 < n ? digits[(b >> 6) & 63] : '=';
    out += i + 2 < n ? digits[b & 63] : '=';
  }
  return out;
}

// One array's inline binary content: base64 of its byte count and values.
std::string inline_binary(const std::vector<float>& values) {
  const uint64_t bytes = values.size() * sizeof(float);
  std::vector<unsigned char> raw(sizeof bytes + bytes);
  std::memcpy(raw.data(), &bytes, sizeof bytes);
  if (bytes > 0) std::memcpy(raw.data() + sizeof bytes, values.data(), bytes);
  return base64(raw.data(), raw.size());
}

// Writes the grid as VTK XML ImageData with inline binary data, to
// `path`.tmp and then renamed to `path`.
void write_vti(const std::string& path, const uint64_t dims[3], const double origin[3],
               const double spacing[3], const std::vector<Variable>& variables,
               double time_value) {
  std::ostringstream extent;
  extent << "0 " << dims[0] - 1 << " 0 " << dims[1] - 1 << " 0 " << dims[2] - 1;

  // The arrays. The first scalar and the first vector of each kind are the
  // active ones.
  std::ostringstream point_data, cell_data;
  std::string active[2][2];  // [point, cell][scalars, vectors]
  for (const Variable& v : variables) {
    const int where = v.association == INR_ASSOCIATION_CELL ? 1 : 0;
    if (v.components == 1 && active[where][0].empty()) active[where][0] = v.name;
    if (v.components == 3 && active[where][1].empty()) active[where][1] = v.name;
    std::ostream& section = v.association == INR_ASSOCIATION_CELL ? cell_data : point_data;
    section << "        <DataArray type=\"Float32\" Name=\"" << xml_escape(v.name)
            << "\" NumberOfComponents=\"" << v.components << "\" format=\"binary\">\n          "
            << inline_binary(v.values) << "\n        </DataArray>\n";
  }

  std::ostringstream xml;
  xml << "<?xml version=\"1.0\"?>\n"
      << "<VTKFile type=\"ImageData\" version=\"1.0\" byte_order=\""
      << (host_is_little_endian() ? "LittleEndian" : "BigEndian")
      << "\" header_type=\"UInt64\">\n"
      << "  <ImageData WholeExtent=\"" << extent.str() << "\" Origin=\"" << number(origin[0])
      << ' ' << number(origin[1]) << ' ' << number(origin[2]) << "\" Spacing=\""
      << number(spacing[0]) << ' ' << number(spacing[1]) << ' ' << number(spacing[2])
      << "\">\n";
  if (!std::isnan(time_value)) {
    // ParaView shows this as the data set's time.
    xml << "    <FieldData>\n"
        << "      <DataArray type=\"Float64\" Name=\"TimeValue\" NumberOfTuples=\"1\" "
           "format=\"ascii\">"
        << number(time_value) << "</DataArray>\n"
        << "    </FieldData>\n";
  }
  xml << "    <Piece Extent=\"" << extent.str() << "\">\n"
      << "      <PointData" << active_attributes(active[0]) << ">\n"
      << point_data.str() << "      </PointData>\n"
      << "      <CellData" << active_attributes(active[1]) << ">\n"
      << cell_data.str() << "      </CellData>\n"
      << "    </Piece>\n"
      << "  </ImageData>\n"
      << "</VTKFile>\n";

  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot create " + tmp + ": " + std::strerror(errno));
    const std::string text = xml.str();
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      throw std::runtime_error("cannot write " + tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + why);
  }
}

uint64_t parse_dim(const char* text) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || value < 1 || text[0] == '-' ||
      value > static_cast<unsigned long long>(std::numeric_limits<int32_t>::max())) {
    throw std::invalid_argument(std::string("grid size '") + text +
                                "' is not a whole number of points >= 1");
  }
  return value;
}

double parse_time(const char* text) {
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || !std::isfinite(value)) {
    throw std::invalid_argument(std::string("time '") + text + "' is not a finite number");
  }
  return value;
}

// Tuples VTK expects for an array on a grid of `dims` points: points, or
// cells with max(points - 1, 1) per axis.
uint64_t vtk_tuples(const uint64_t dims[3], inr_association association) {
  uint64_t n = 1;
  for (int a = 0; a < 3; ++a) {
    n *= association == INR_ASSOCIATION_CELL ? (dims[a] > 1 ? dims[a] - 1 : 1) : dims[a];
  }
  return n;
}

int run(int argc, char** argv) {
  const std::string input = argv[1];
  const uint64_t dims[3] = {parse_dim(argv[2]), parse_dim(argv[3]), parse_dim(argv[4])};
  const std::string output = argv[5];
  const double time = argc == 7 ? parse_time(argv[6]) : std::nan("");  // NaN: first step

  if (inr_abi_version() >> 16 != INR_ABI_VERSION_MAJOR) {
    throw std::runtime_error(std::string("libinr ") + inr_version() +
                             " does not have the C ABI this program was built for");
  }

  const Model model(input);

  double origin[3], spacing[3];
  check(inr_grid_geometry(model.get(), dims, origin, spacing), "inr_grid_geometry");

  size_t n_variables = 0;
  check(inr_variable_count(model.get(), &n_variables), "inr_variable_count");
  std::vector<Variable> variables(n_variables);
  std::vector<float*> outputs(n_variables);
  std::vector<size_t> output_lens(n_variables);
  for (size_t i = 0; i < n_variables; ++i) {
    Variable& v = variables[i];
    const char* name = nullptr;
    check(inr_variable_name(model.get(), i, &name), "inr_variable_name");
    v.name = name;
    check(inr_variable_components(model.get(), i, &v.components), "inr_variable_components");
    check(inr_variable_association(model.get(), i, &v.association),
          "inr_variable_association");
    size_t count = 0;
    check(inr_grid_value_count(model.get(), dims, nullptr, i, &count), "inr_grid_value_count");
    if (count != vtk_tuples(dims, v.association) * v.components) {
      throw std::runtime_error("variable " + v.name + ": libinr returns " +
                               std::to_string(count) +
                               " values, not what VTK expects on this grid");
    }
    v.values.resize(count);
    outputs[i] = v.values.data();
    output_lens[i] = count;
  }

  // The time the data is at, for ParaView (none for static files).
  size_t n_times = 0;
  check(inr_time_step_count(model.get(), &n_times), "inr_time_step_count");
  double time_value = std::nan("");
  if (n_times > 0) {
    std::vector<double> times(n_times);
    check(inr_time_values(model.get(), times.data(), times.size()), "inr_time_values");
    time_value = std::isnan(time) ? times.front()
                                  : std::min(std::max(time, times.front()), times.back());
  }

  int last_percent = -1;
  inr_decode_options options{};
  options.threads = 0;  // one per core
  options.progress = print_progress;
  options.user_data = &last_percent;
  const inr_status status = inr_decode_grid(model.get(), dims, nullptr, nullptr, 0, time,
                                            outputs.data(), output_lens.data(), &options);
  std::fputc('\n', stderr);
  check(status, "inr_decode_grid");

  write_vti(output, dims, origin, spacing, variables, time_value);
  std::cerr << "decode_grid: wrote " << output << ": " << dims[0] << " x " << dims[1] << " x "
            << dims[2] << " points, " << n_variables << " variables";
  if (!std::isnan(time_value)) std::cerr << ", time " << time_value;
  std::cerr << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 && argc != 7) {
    std::cerr << "usage: decode_grid FILE NX NY NZ OUT.vti [TIME]\n"
                 "  decodes all variables of FILE on an NX x NY x NZ grid over its bounds\n"
                 "  (at TIME, default the first step) into a VTK ImageData file\n";
    return 2;
  }
  try {
    return run(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::cerr << "decode_grid: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "decode_grid: " << e.what() << '\n';
    return 1;
  }
}
