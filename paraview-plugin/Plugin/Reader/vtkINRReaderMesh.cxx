// The vtkINRReader's outputs for unstructured files: the (refined) mesh as
// vtkUnstructuredGrid, one piece per rank, and the resampled image's arrays
// with the inside mask.
#include "vtkINRReader.h"

#include "vtkCellArray.h"
#include "vtkCellData.h"
#include "vtkDataSetAttributes.h"
#include "vtkDoubleArray.h"
#include "vtkFloatArray.h"
#include "vtkIdTypeArray.h"
#include "vtkImageData.h"
#include "vtkInformation.h"
#include "vtkNew.h"
#include "vtkPointData.h"
#include "vtkPoints.h"
#include "vtkStreamingDemandDrivenPipeline.h"
#include "vtkTypeInt64Array.h"
#include "vtkUnsignedCharArray.h"
#include "vtkUnstructuredGrid.h"

#include <inr.h>

#include <cmath>
#include <memory>

namespace
{
/// Frees a mesh view when it goes out of scope.
struct ViewDeleter
{
  void operator()(inr_mesh_view* view) const { inr_mesh_view_free(view); }
};
using ViewPtr = std::unique_ptr<inr_mesh_view, ViewDeleter>;

/// The values of a VTK 64-bit array as the C API's int64_t (long long and
/// long are both 64 bits here, but distinct C++ types).
int64_t* AsInt64(vtkTypeInt64Array* a)
{
  static_assert(sizeof(vtkTypeInt64) == sizeof(int64_t), "64-bit ids");
  return reinterpret_cast<int64_t*>(a->GetPointer(0));
}

/// A new int64 array of `n` values, for the library to fill.
vtkSmartPointer<vtkTypeInt64Array> Int64Array(uint64_t n)
{
  auto a = vtkSmartPointer<vtkTypeInt64Array>::New();
  a->SetNumberOfValues(static_cast<vtkIdType>(n));
  return a;
}
}

int vtkINRReader::RequestMeshData(vtkInformation* outInfo, vtkDataObject* object, double time)
{
  vtkUnstructuredGrid* output = vtkUnstructuredGrid::SafeDownCast(object);
  if (!output)
  {
    vtkErrorMacro(<< "The output of a mesh is not an unstructured grid.");
    return 0;
  }
  int piece = 0, pieces = 1;
  if (outInfo->Has(vtkStreamingDemandDrivenPipeline::UPDATE_PIECE_NUMBER()))
  {
    piece = outInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_PIECE_NUMBER());
    pieces = outInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_NUMBER_OF_PIECES());
  }
  if (pieces < 1 || piece < 0 || piece >= pieces)
  {
    return 1; // no piece asked of this rank
  }
  const uint32_t level =
    this->OutputMode == REFINED_MESH ? static_cast<uint32_t>(this->RefinementLevel) : 0;
  inr_mesh_view* raw = nullptr;
  int status = inr_mesh_view_new(this->Model, level, static_cast<uint64_t>(piece),
    static_cast<uint64_t>(pieces), &raw);
  if (status != INR_OK)
  {
    this->ReportError("Cannot make the mesh", status);
    return 0;
  }
  ViewPtr view(raw);

  uint64_t nPoints = 0, nCells = 0, nConnectivity = 0;
  status = inr_mesh_view_sizes(view.get(), &nPoints, &nCells, &nConnectivity);
  vtkNew<vtkDoubleArray> coordinates;
  coordinates->SetNumberOfComponents(3);
  coordinates->SetNumberOfTuples(static_cast<vtkIdType>(nPoints));
  if (status == INR_OK)
  {
    status = inr_mesh_view_points(view.get(), coordinates->GetPointer(0), 3 * nPoints);
  }
  auto offsets = Int64Array(nCells + 1);
  auto connectivity = Int64Array(nConnectivity);
  vtkNew<vtkUnsignedCharArray> types;
  types->SetNumberOfValues(static_cast<vtkIdType>(nCells));
  if (status == INR_OK)
  {
    status = inr_mesh_view_cells(view.get(), AsInt64(offsets), nCells + 1,
      AsInt64(connectivity), nConnectivity, types->GetPointer(0), nCells);
  }
  vtkNew<vtkIdTypeArray> sources;
  sources->SetName("vtkOriginalCellIds");
  sources->SetNumberOfValues(static_cast<vtkIdType>(nCells));
  std::vector<int64_t> cellSources(nCells);
  if (status == INR_OK)
  {
    status = inr_mesh_view_sources(view.get(), nullptr, 0, cellSources.data(), nCells);
  }
  if (status != INR_OK)
  {
    this->ReportError("Cannot read the mesh", status);
    return 0;
  }
  for (uint64_t c = 0; c < nCells; ++c)
  {
    sources->SetValue(static_cast<vtkIdType>(c), static_cast<vtkIdType>(cellSources[c]));
  }
  vtkNew<vtkPoints> points;
  points->SetData(coordinates);
  vtkNew<vtkCellArray> cells;
  cells->SetData(offsets, connectivity);
  output->SetPoints(points);
  output->SetCells(types, cells);
  output->GetCellData()->AddArray(sources);

  const std::vector<size_t> variables = this->SelectedVariables();
  std::vector<vtkSmartPointer<vtkFloatArray>> arrays;
  std::vector<float*> outputs;
  std::vector<size_t> lengths;
  auto count = [&](size_t v, size_t* n)
  { return inr_mesh_view_value_count(this->Model, view.get(), v, n); };
  if (!this->MakeArrays(variables, count, arrays, outputs, lengths))
  {
    output->Initialize();
    return 0;
  }
  if (!variables.empty())
  {
    inr_decode_options options;
    this->FillOptions(&options);
    status = inr_decode_mesh_view(this->Model, view.get(), variables.data(), variables.size(),
      time, outputs.data(), lengths.data(), &options);
    if (status == INR_ERROR_CANCELLED)
    {
      return 1; // aborted: the mesh without arrays
    }
    if (status != INR_OK)
    {
      this->ReportError("Decoding failed", status);
      output->Initialize();
      return 0;
    }
    this->AttachArrays(output, variables, arrays, true);
  }
  if (!std::isnan(time))
  {
    output->GetInformation()->Set(vtkDataObject::DATA_TIME_STEP(), time);
  }
  return 1;
}

bool vtkINRReader::ResampleArrays(vtkDataSet* output, const int extent[6], double time)
{
  uint64_t dims[3];
  this->DecodeDimensions(dims);
  const int64_t ext[6] = { extent[0], extent[1], extent[2], extent[3], extent[4], extent[5] };
  const std::vector<size_t> variables = this->SelectedVariables();
  std::vector<vtkSmartPointer<vtkFloatArray>> arrays;
  std::vector<float*> outputs;
  std::vector<size_t> lengths;
  auto count = [&](size_t v, size_t* n)
  { return inr_resample_value_count(this->Model, dims, ext, v, n); };
  if (!this->MakeArrays(variables, count, arrays, outputs, lengths))
  {
    return false;
  }
  const vtkIdType n = output->GetNumberOfPoints();
  vtkNew<vtkUnsignedCharArray> mask;
  mask->SetName("vtkValidPointMask");
  mask->SetNumberOfValues(n);
  inr_decode_options options;
  this->FillOptions(&options);
  // Outside the mesh: 0, as VTK's probe and resample filters leave them.
  const int status = inr_resample_grid(this->Model, dims, ext, variables.data(),
    variables.size(), time, 0.0f, outputs.data(), lengths.data(), mask->GetPointer(0),
    static_cast<size_t>(n), &options);
  if (status == INR_ERROR_CANCELLED)
  {
    return true;
  }
  if (status != INR_OK)
  {
    this->ReportError("Resampling failed", status);
    return false;
  }
  this->AttachArrays(output, variables, arrays, false);
  output->GetPointData()->AddArray(mask);
  // Hide the outside points, as ParaView's Resample With Dataset does.
  vtkNew<vtkUnsignedCharArray> ghosts;
  ghosts->SetName(vtkDataSetAttributes::GhostArrayName());
  ghosts->SetNumberOfValues(n);
  for (vtkIdType i = 0; i < n; ++i)
  {
    ghosts->SetValue(i, mask->GetValue(i) ? 0 : vtkDataSetAttributes::HIDDENPOINT);
  }
  output->GetPointData()->AddArray(ghosts);
  return true;
}
