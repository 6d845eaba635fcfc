#include "vtkINRReader.h"

#include "vtkCellData.h"
#include "vtkDataArraySelection.h"
#include "vtkDoubleArray.h"
#include "vtkFloatArray.h"
#include "vtkImageData.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkNew.h"
#include "vtkObjectFactory.h"
#include "vtkPointData.h"
#include "vtkRectilinearGrid.h"
#include "vtkSmartPointer.h"
#include "vtkStreamingDemandDrivenPipeline.h"
#include "vtkStringArray.h"
#include "vtkUnstructuredGrid.h"

#include <inr.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

vtkStandardNewMacro(vtkINRReader);

namespace
{
/// The library's message for the last failure on this thread.
std::string LastError()
{
  const char* message = inr_last_error_message();
  return message ? message : "no message";
}

/// The domain kinds this reader presents.
bool IsPresented(int kind)
{
  return kind == INR_DOMAIN_IMAGE || kind == INR_DOMAIN_RECTILINEAR ||
    kind == INR_DOMAIN_UNSTRUCTURED || kind == INR_DOMAIN_IMAGES;
}

/// Whether a blend property names no variable.
bool IsNone(const char* name)
{
  return !name || !*name || std::strcmp(name, "(none)") == 0;
}

/// Whether an update extent holds no points (a rank without a piece).
bool IsEmpty(const int extent[6])
{
  return extent[1] < extent[0] || extent[3] < extent[2] || extent[5] < extent[4];
}
}

vtkINRReader::vtkINRReader()
  : PointSelection(vtkDataArraySelection::New())
  , CellSelection(vtkDataArraySelection::New())
  , LatentBlendChoices(vtkStringArray::New())
  , ViewParameterNames(vtkStringArray::New())
  , ViewParameterRanges(vtkDoubleArray::New())
  , StoredViews(vtkDoubleArray::New())
  , DefaultViewParameters(vtkDoubleArray::New())
{
  this->SetNumberOfInputPorts(0);
  this->SetNumberOfOutputPorts(1);
}

vtkINRReader::~vtkINRReader()
{
  this->CloseFile();
  this->SetFileName(nullptr);
  this->PointSelection->Delete();
  this->CellSelection->Delete();
  this->SetLatentBlendFrom(nullptr);
  this->SetLatentBlendTo(nullptr);
  this->LatentBlendChoices->Delete();
  this->ViewParameterNames->Delete();
  this->ViewParameterRanges->Delete();
  this->StoredViews->Delete();
  this->DefaultViewParameters->Delete();
}

void vtkINRReader::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "FileName: " << (this->FileName ? this->FileName : "(none)") << "\n";
  os << indent << "SamplingDimensions: " << this->SamplingDimensions[0] << " "
     << this->SamplingDimensions[1] << " " << this->SamplingDimensions[2] << "\n";
  os << indent << "NumberOfThreads: " << this->NumberOfThreads << "\n";
  os << indent << "OutputMode: " << this->OutputMode << "\n";
  os << indent << "RefinementLevel: " << this->RefinementLevel << "\n";
  os << indent << "LevelOfDetail: " << this->LevelOfDetail << "\n";
  os << indent << "NumberOfScales: " << this->NumberOfScales << "\n";
  os << indent << "LatentBlendFrom: " << (this->LatentBlendFrom ? this->LatentBlendFrom : "(none)")
     << "\n";
  os << indent << "LatentBlendTo: " << (this->LatentBlendTo ? this->LatentBlendTo : "(none)")
     << "\n";
  os << indent << "LatentBlendAlpha: " << this->LatentBlendAlpha << "\n";
  os << indent << "ViewParameters:";
  for (double value : this->ViewParameters)
  {
    os << " " << value;
  }
  os << "\n" << indent << "StoredView: " << this->StoredView << "\n";
}

vtkMTimeType vtkINRReader::GetMTime()
{
  vtkMTimeType t = this->Superclass::GetMTime();
  t = std::max(t, this->PointSelection->GetMTime());
  return std::max(t, this->CellSelection->GetMTime());
}

// --- array selections ---------------------------------------------------------

int vtkINRReader::GetNumberOfPointArrays()
{
  return this->PointSelection->GetNumberOfArrays();
}

const char* vtkINRReader::GetPointArrayName(int index)
{
  return this->PointSelection->GetArrayName(index);
}

int vtkINRReader::GetPointArrayStatus(const char* name)
{
  return this->PointSelection->ArrayIsEnabled(name);
}

void vtkINRReader::SetPointArrayStatus(const char* name, int status)
{
  this->PointSelection->SetArraySetting(name, status);
}

int vtkINRReader::GetNumberOfCellArrays()
{
  return this->CellSelection->GetNumberOfArrays();
}

const char* vtkINRReader::GetCellArrayName(int index)
{
  return this->CellSelection->GetArrayName(index);
}

int vtkINRReader::GetCellArrayStatus(const char* name)
{
  return this->CellSelection->ArrayIsEnabled(name);
}

void vtkINRReader::SetCellArrayStatus(const char* name, int status)
{
  this->CellSelection->SetArraySetting(name, status);
}

// --- the file -------------------------------------------------------------------

int vtkINRReader::CanReadFile(const char* name)
{
  if (!name)
  {
    return 0;
  }
  inr_model* model = nullptr;
  const int status = inr_open(name, &model);
  if (status == INR_OK)
  {
    inr_close(model);
    return 1;
  }
  // An .inr file that fails to open (truncated, corrupt, a newer version)
  // is still this reader's: it then says what is wrong with it.
  return status == INR_ERROR_NOT_INR || status == INR_ERROR_IO ? 0 : 1;
}

void vtkINRReader::ReportError(const char* what, int status)
{
  vtkErrorMacro(<< what << ": " << inr_status_name(status) << ": " << LastError());
}

void vtkINRReader::CloseFile()
{
  if (this->Model)
  {
    inr_close(this->Model);
    this->Model = nullptr;
  }
  this->OpenedFile.clear();
  this->DomainKind = -1;
  this->TimeValues.clear();
  this->NumberOfScales = 0;
  this->LevelOfDetailRange[0] = this->LevelOfDetailRange[1] = 0;
  this->LatentBlendChoices->Initialize();
  this->ViewParameterNames->Initialize();
  this->ViewParameterRanges->Initialize();
  this->StoredViews->Initialize();
  this->DefaultViewParameters->Initialize();
  this->StoredViewRange[0] = this->StoredViewRange[1] = -1;
}

bool vtkINRReader::OpenFile()
{
  if (!this->FileName || !*this->FileName)
  {
    this->CloseFile();
    vtkErrorMacro(<< "No file name set.");
    return false;
  }
  if (this->Model && this->OpenedFile == this->FileName)
  {
    return true;
  }
  this->CloseFile();
  inr_model* model = nullptr;
  int status = inr_open(this->FileName, &model);
  if (status != INR_OK)
  {
    vtkErrorMacro(<< "Cannot read " << this->FileName << ": " << inr_status_name(status) << ": "
                  << LastError());
    return false;
  }
  inr_domain kind;
  status = inr_domain_kind(model, &kind);
  if (status != INR_OK || !IsPresented(kind))
  {
    vtkErrorMacro(<< this->FileName
                  << ": only image, rectilinear, unstructured and images domains are presented by "
                     "this reader version (this file's domain kind is "
                  << (status == INR_OK ? static_cast<int>(kind) : -1) << ").");
    inr_close(model);
    return false;
  }
  double bounds[6];
  status = inr_bounds(model, bounds);
  if (status != INR_OK)
  {
    this->ReportError("Cannot read the bounds", status);
    inr_close(model);
    return false;
  }
  size_t steps = 0;
  status = inr_time_step_count(model, &steps);
  std::vector<double> times(steps);
  if (status == INR_OK && steps > 0)
  {
    status = inr_time_values(model, times.data(), times.size());
  }
  if (status != INR_OK)
  {
    this->ReportError("Cannot read the time steps", status);
    inr_close(model);
    return false;
  }
  uint32_t scales = 0;
  status = inr_model_scales(model, &scales);
  if (status != INR_OK)
  {
    this->ReportError("Cannot read the number of scales", status);
    inr_close(model);
    return false;
  }
  this->Model = model;
  this->OpenedFile = this->FileName;
  this->NumberOfScales = static_cast<int>(std::min<uint32_t>(scales, VTK_INT_MAX));
  this->LevelOfDetailRange[0] = 0;
  this->LevelOfDetailRange[1] = this->NumberOfScales;
  this->DomainKind = kind;
  this->TimeValues = times;
  std::copy(bounds, bounds + 6, this->Bounds);
  return true;
}

bool vtkINRReader::IsMesh() const
{
  return this->Model && this->DomainKind == INR_DOMAIN_UNSTRUCTURED;
}

bool vtkINRReader::MeshOutput() const
{
  return this->IsMesh() && this->OutputMode != RESAMPLED_IMAGE;
}

void vtkINRReader::DecodeDimensions(uint64_t dims[3]) const
{
  const bool native = this->SamplingDimensions[0] <= 0 || this->SamplingDimensions[1] <= 0 ||
    this->SamplingDimensions[2] <= 0;
  if (native && this->IsMesh())
  {
    // No stored grid: 64 points along the longest side, the rest in proportion.
    const double* b = this->Bounds;
    const double longest =
      std::max({ b[1] - b[0], b[3] - b[2], b[5] - b[4], std::numeric_limits<double>::min() });
    for (int a = 0; a < 3; ++a)
    {
      const double side = b[2 * a + 1] - b[2 * a];
      dims[a] = static_cast<uint64_t>(std::max(2.0, std::round(1.0 + 63.0 * side / longest)));
    }
    return;
  }
  for (int a = 0; a < 3; ++a)
  {
    dims[a] = static_cast<uint64_t>(
      native ? this->NativeDimensions[a] : this->SamplingDimensions[a]);
  }
}

std::vector<size_t> vtkINRReader::SelectedVariables() const
{
  std::vector<size_t> selected;
  size_t count = 0;
  if (inr_variable_count(this->Model, &count) != INR_OK)
  {
    return selected;
  }
  for (size_t v = 0; v < count; ++v)
  {
    const char* name = nullptr;
    inr_association association;
    if (inr_variable_name(this->Model, v, &name) != INR_OK ||
      inr_variable_association(this->Model, v, &association) != INR_OK)
    {
      continue;
    }
    vtkDataArraySelection* selection =
      association == INR_ASSOCIATION_CELL ? this->CellSelection : this->PointSelection;
    if (selection->ArrayIsEnabled(name))
    {
      selected.push_back(v);
    }
  }
  return selected;
}

// --- pipeline -------------------------------------------------------------------

int vtkINRReader::FillOutputPortInformation(int, vtkInformation* info)
{
  info->Set(vtkDataObject::DATA_TYPE_NAME(), "vtkDataSet");
  return 1;
}

int vtkINRReader::RequestDataObject(vtkInformation*, vtkInformationVector**,
  vtkInformationVector* outputVector)
{
  vtkInformation* outInfo = outputVector->GetInformationObject(0);
  // An unreadable file still gets an (empty) image output, so that the
  // pipeline reports the error instead of failing to build.
  const bool open = this->OpenFile();
  const char* type = "vtkImageData";
  if (open && this->DomainKind == INR_DOMAIN_RECTILINEAR)
  {
    type = "vtkRectilinearGrid";
  }
  else if (open && this->MeshOutput())
  {
    type = "vtkUnstructuredGrid";
  }
  vtkDataObject* current = vtkDataObject::GetData(outInfo);
  if (!current || !current->IsA(type))
  {
    vtkSmartPointer<vtkDataObject> output;
    if (std::string(type) == "vtkRectilinearGrid")
    {
      output = vtkSmartPointer<vtkRectilinearGrid>::New();
    }
    else if (std::string(type) == "vtkUnstructuredGrid")
    {
      output = vtkSmartPointer<vtkUnstructuredGrid>::New();
    }
    else
    {
      output = vtkSmartPointer<vtkImageData>::New();
    }
    outInfo->Set(vtkDataObject::DATA_OBJECT(), output);
  }
  return 1;
}

int vtkINRReader::RequestInformation(vtkInformation*, vtkInformationVector**,
  vtkInformationVector* outputVector)
{
  if (!this->OpenFile())
  {
    return 0;
  }
  vtkInformation* outInfo = outputVector->GetInformationObject(0);
  // Images files have no grid: their own path from here.
  if (!(this->IsImages() ? this->DescribeImages(outInfo) : this->DescribeGrid(outInfo)))
  {
    return 0;
  }
  this->DescribeTime(outInfo);
  return this->ListVariables() ? 1 : 0;
}

bool vtkINRReader::DescribeGrid(vtkInformation* outInfo)
{
  uint64_t native[3] = { 0, 0, 0 };
  int status = this->IsMesh() ? INR_OK : inr_native_dims(this->Model, native);
  if (status != INR_OK)
  {
    this->ReportError("Cannot read the grid dimensions", status);
    return false;
  }
  for (int a = 0; a < 3; ++a)
  {
    if (native[a] > static_cast<uint64_t>(std::numeric_limits<int>::max()))
    {
      vtkErrorMacro(<< "The stored grid is too large for VTK extents.");
      return false;
    }
    this->NativeDimensions[a] = static_cast<int>(native[a]);
  }
  uint64_t dims[3];
  this->DecodeDimensions(dims);

  outInfo->Remove(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT());
  outInfo->Remove(CAN_PRODUCE_SUB_EXTENT());
  outInfo->Remove(CAN_HANDLE_PIECE_REQUEST());
  if (this->MeshOutput())
  {
    outInfo->Set(CAN_HANDLE_PIECE_REQUEST(), 1);
  }
  else
  {
    const int whole[6] = { 0, static_cast<int>(dims[0]) - 1, 0, static_cast<int>(dims[1]) - 1, 0,
      static_cast<int>(dims[2]) - 1 };
    outInfo->Set(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT(), whole, 6);
    outInfo->Set(CAN_PRODUCE_SUB_EXTENT(), 1);
  }
  if (this->DomainKind == INR_DOMAIN_IMAGE || (this->IsMesh() && !this->MeshOutput()))
  {
    double origin[3], spacing[3];
    status = inr_grid_geometry(this->Model, dims, origin, spacing);
    if (status != INR_OK)
    {
      this->ReportError("Cannot compute the grid geometry", status);
      return false;
    }
    outInfo->Set(vtkDataObject::ORIGIN(), origin, 3);
    outInfo->Set(vtkDataObject::SPACING(), spacing, 3);
  }
  return true;
}

void vtkINRReader::DescribeTime(vtkInformation* outInfo)
{
  outInfo->Remove(vtkStreamingDemandDrivenPipeline::TIME_STEPS());
  outInfo->Remove(vtkStreamingDemandDrivenPipeline::TIME_RANGE());
  if (!this->TimeValues.empty())
  {
    outInfo->Set(vtkStreamingDemandDrivenPipeline::TIME_STEPS(), this->TimeValues.data(),
      static_cast<int>(this->TimeValues.size()));
    const double range[2] = { this->TimeValues.front(), this->TimeValues.back() };
    outInfo->Set(vtkStreamingDemandDrivenPipeline::TIME_RANGE(), range, 2);
  }
}

bool vtkINRReader::ListVariables()
{
  // Offer every variable; settings the user made survive (AddArray keeps them).
  size_t count = 0;
  int status = inr_variable_count(this->Model, &count);
  bool embeds = false;
  if (status == INR_OK)
  {
    status = inr_model_embeds_variables(this->Model, &embeds);
  }
  if (status != INR_OK)
  {
    this->ReportError("Cannot list the variables", status);
    return false;
  }
  this->LatentBlendChoices->Initialize();
  for (size_t v = 0; v < count; ++v)
  {
    const char* name = nullptr;
    inr_association association;
    if (inr_variable_name(this->Model, v, &name) != INR_OK ||
      inr_variable_association(this->Model, v, &association) != INR_OK)
    {
      this->ReportError("Cannot read a variable", INR_ERROR_CORRUPT);
      return false;
    }
    vtkDataArraySelection* selection =
      association == INR_ASSOCIATION_CELL ? this->CellSelection : this->PointSelection;
    if (!selection->ArrayExists(name))
    {
      selection->AddArray(name);
    }
    if (embeds)
    {
      this->LatentBlendChoices->InsertNextValue(name);
    }
  }
  return true;
}

bool vtkINRReader::Progress(void* self, double fraction)
{
  vtkINRReader* reader = static_cast<vtkINRReader*>(self);
  reader->UpdateProgress(fraction);
  return !reader->GetAbortExecute();
}

bool vtkINRReader::SetRectilinearCoordinates(vtkDataObject* object, const int extent[6])
{
  vtkRectilinearGrid* grid = vtkRectilinearGrid::SafeDownCast(object);
  uint64_t dims[3];
  this->DecodeDimensions(dims);
  const bool native = dims[0] == static_cast<uint64_t>(this->NativeDimensions[0]) &&
    dims[1] == static_cast<uint64_t>(this->NativeDimensions[1]) &&
    dims[2] == static_cast<uint64_t>(this->NativeDimensions[2]);
  double origin[3] = { 0, 0, 0 }, spacing[3] = { 0, 0, 0 };
  if (!native)
  {
    const int status = inr_grid_geometry(this->Model, dims, origin, spacing);
    if (status != INR_OK)
    {
      this->ReportError("Cannot compute the grid geometry", status);
      return false;
    }
  }
  grid->SetExtent(const_cast<int*>(extent));
  for (uint32_t a = 0; a < 3; ++a)
  {
    std::vector<double> all(dims[a]);
    if (native)
    {
      size_t count = 0;
      const int status = inr_grid_coordinates(this->Model, a, all.data(), all.size(), &count);
      if (status != INR_OK || count != all.size())
      {
        this->ReportError("Cannot read the grid coordinates", status);
        return false;
      }
    }
    else
    {
      for (size_t i = 0; i < all.size(); ++i)
      {
        all[i] = origin[a] + spacing[a] * static_cast<double>(i);
      }
    }
    vtkNew<vtkDoubleArray> coordinates;
    const int first = extent[2 * a];
    const int n = extent[2 * a + 1] - first + 1;
    coordinates->SetNumberOfTuples(n);
    for (int i = 0; i < n; ++i)
    {
      coordinates->SetValue(i, all[first + i]);
    }
    if (a == 0)
    {
      grid->SetXCoordinates(coordinates);
    }
    else if (a == 1)
    {
      grid->SetYCoordinates(coordinates);
    }
    else
    {
      grid->SetZCoordinates(coordinates);
    }
  }
  return true;
}

void vtkINRReader::FillOptions(inr_decode_options* options)
{
  *options = inr_decode_options{};
  options->threads = static_cast<uint32_t>(this->NumberOfThreads);
  options->detail = static_cast<uint32_t>(this->LevelOfDetail);
  options->progress = &vtkINRReader::Progress;
  options->user_data = this;
}

bool vtkINRReader::MakeArrays(const std::vector<size_t>& variables,
  const std::function<int(size_t, size_t*)>& count,
  std::vector<vtkSmartPointer<vtkFloatArray>>& arrays, std::vector<float*>& pointers,
  std::vector<size_t>& lengths)
{
  for (size_t v : variables)
  {
    const char* name = nullptr;
    uint32_t components = 0;
    size_t values = 0;
    int status = inr_variable_name(this->Model, v, &name);
    if (status == INR_OK)
    {
      status = inr_variable_components(this->Model, v, &components);
    }
    if (status == INR_OK)
    {
      status = count(v, &values);
    }
    if (status != INR_OK || components == 0)
    {
      this->ReportError("Cannot size an output array", status);
      return false;
    }
    auto array = vtkSmartPointer<vtkFloatArray>::New();
    array->SetName(name);
    array->SetNumberOfComponents(static_cast<int>(components));
    array->SetNumberOfTuples(static_cast<vtkIdType>(values / components));
    arrays.push_back(array);
    pointers.push_back(array->GetPointer(0));
    lengths.push_back(values);
  }
  return true;
}

void vtkINRReader::AttachArrays(vtkDataSet* output, const std::vector<size_t>& variables,
  const std::vector<vtkSmartPointer<vtkFloatArray>>& arrays, bool cellsToo)
{
  for (size_t i = 0; i < variables.size(); ++i)
  {
    inr_association association = INR_ASSOCIATION_POINT;
    inr_variable_association(this->Model, variables[i], &association);
    if (cellsToo && association == INR_ASSOCIATION_CELL)
    {
      output->GetCellData()->AddArray(arrays[i]);
    }
    else
    {
      output->GetPointData()->AddArray(arrays[i]);
    }
  }
}

bool vtkINRReader::DecodeArrays(vtkDataSet* output, const int extent[6], double time)
{
  inr_decode_options options;
  this->FillOptions(&options);
  return this->DecodeGrid(
    output, extent, time, this->SelectedVariables(), options, "Decoding failed", nullptr);
}

bool vtkINRReader::DecodeGrid(vtkDataSet* output, const int extent[6], double time,
  const std::vector<size_t>& variables, const inr_decode_options& options, const char* failure,
  const char* name)
{
  uint64_t dims[3];
  this->DecodeDimensions(dims);
  const int64_t ext[6] = { extent[0], extent[1], extent[2], extent[3], extent[4], extent[5] };
  std::vector<vtkSmartPointer<vtkFloatArray>> arrays;
  std::vector<float*> outputs;
  std::vector<size_t> lengths;
  auto count = [&](size_t v, size_t* n) { return inr_grid_value_count(this->Model, dims, ext, v, n); };
  if (!this->MakeArrays(variables, count, arrays, outputs, lengths))
  {
    return false;
  }
  if (variables.empty())
  {
    return true;
  }
  const int status = inr_decode_grid(this->Model, dims, ext, variables.data(), variables.size(),
    time, outputs.data(), lengths.data(), &options);
  if (status == INR_ERROR_CANCELLED)
  {
    return true; // aborted by the pipeline: leave the output without arrays
  }
  if (status != INR_OK)
  {
    this->ReportError(failure, status);
    return false;
  }
  if (name)
  {
    arrays[0]->SetName(name);
  }
  this->AttachArrays(output, variables, arrays, true);
  return true;
}

bool vtkINRReader::ResolveBlend(size_t* from, size_t* to)
{
  *from = *to = SIZE_MAX;
  if (IsNone(this->LatentBlendFrom) && IsNone(this->LatentBlendTo))
  {
    return true;
  }
  if (IsNone(this->LatentBlendFrom) || IsNone(this->LatentBlendTo))
  {
    vtkErrorMacro(<< "Latent blend: set both Latent Blend From and Latent Blend To, or neither.");
    return false;
  }
  bool embeds = false;
  int status = inr_model_embeds_variables(this->Model, &embeds);
  if (status != INR_OK || !embeds)
  {
    vtkErrorMacro(<< "Latent blend: the model of " << this->FileName
                  << " does not embed its variables (only STSR-INR models do).");
    return false;
  }
  status = inr_variable_find(this->Model, this->LatentBlendFrom, from);
  if (status == INR_OK)
  {
    status = inr_variable_find(this->Model, this->LatentBlendTo, to);
  }
  if (status != INR_OK)
  {
    this->ReportError("Latent blend", status);
    return false;
  }
  return true;
}

bool vtkINRReader::DecodeBlend(
  vtkDataSet* output, const int extent[6], double time, size_t from, size_t to)
{
  inr_decode_options options;
  this->FillOptions(&options);
  options.blend_with = static_cast<uint32_t>(to + 1);
  options.blend_alpha = this->LatentBlendAlpha;
  char alpha[32];
  std::snprintf(alpha, sizeof alpha, "%g", this->LatentBlendAlpha);
  const std::string name =
    std::string(this->LatentBlendFrom) + "~" + this->LatentBlendTo + "@" + alpha;
  return this->DecodeGrid(output, extent, time, { from }, options,
    "Decoding the latent blend failed", name.c_str());
}

int vtkINRReader::RequestData(vtkInformation*, vtkInformationVector**,
  vtkInformationVector* outputVector)
{
  vtkInformation* outInfo = outputVector->GetInformationObject(0);
  vtkDataSet* output = vtkDataSet::GetData(outInfo);
  if (!output)
  {
    vtkErrorMacro(<< "No output data object.");
    return 0;
  }
  output->Initialize();
  if (!this->OpenFile())
  {
    return 0;
  }
  double time = std::numeric_limits<double>::quiet_NaN();
  if (!this->TimeValues.empty() &&
    outInfo->Has(vtkStreamingDemandDrivenPipeline::UPDATE_TIME_STEP()))
  {
    time = outInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_TIME_STEP());
  }
  size_t blendFrom = SIZE_MAX, blendTo = SIZE_MAX;
  if (!this->ResolveBlend(&blendFrom, &blendTo))
  {
    return 0;
  }
  if (this->MeshOutput())
  {
    return this->RequestMeshData(outInfo, output, time);
  }

  int extent[6];
  outInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_EXTENT(), extent);
  if (IsEmpty(extent))
  {
    return 1;
  }
  if (this->IsImages())
  {
    return this->RequestImagesData(output, extent, time);
  }

  if (vtkImageData* image = vtkImageData::SafeDownCast(output))
  {
    image->SetExtent(extent);
    image->SetOrigin(outInfo->Get(vtkDataObject::ORIGIN()));
    image->SetSpacing(outInfo->Get(vtkDataObject::SPACING()));
  }
  else if (!this->SetRectilinearCoordinates(output, extent))
  {
    output->Initialize();
    return 0;
  }
  const bool decoded = this->IsMesh() ? this->ResampleArrays(output, extent, time)
                                      : this->DecodeArrays(output, extent, time) &&
      (blendFrom == SIZE_MAX || this->DecodeBlend(output, extent, time, blendFrom, blendTo));
  if (!decoded)
  {
    output->Initialize();
    return 0;
  }
  if (!std::isnan(time))
  {
    output->GetInformation()->Set(vtkDataObject::DATA_TIME_STEP(), time);
  }
  return 1;
}
