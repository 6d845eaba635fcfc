// The vtkINRReader's output for files of rendered images (NeRVI): one 2-D
// image per time and view, the variables as float point data and the
// file's composite as RGBA, rows flipped into VTK's bottom-up order.
#include "vtkINRReader.h"

#include "vtkDoubleArray.h"
#include "vtkFloatArray.h"
#include "vtkImageData.h"
#include "vtkInformation.h"
#include "vtkNew.h"
#include "vtkPointData.h"
#include "vtkStreamingDemandDrivenPipeline.h"
#include "vtkStringArray.h"
#include "vtkUnsignedCharArray.h"

#include <inr.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace
{
/// The columns extent[0..1] and rows extent[2..3] of `image` (width x
/// height tuples, the top row first) in VTK's order: row j of VTK is row
/// height - 1 - j of the picture, since VTK's y points up.
template <class Array>
vtkSmartPointer<Array> FlipRows(Array* image, int width, int height, const int extent[6])
{
  const int components = image->GetNumberOfComponents();
  const vtkIdType columns = extent[1] - extent[0] + 1;
  auto rows = vtkSmartPointer<Array>::New();
  rows->SetName(image->GetName());
  rows->SetNumberOfComponents(components);
  rows->SetNumberOfTuples(columns * (extent[3] - extent[2] + 1));
  auto* out = rows->GetPointer(0);
  for (int j = extent[2]; j <= extent[3]; ++j)
  {
    const vtkIdType first = static_cast<vtkIdType>(height - 1 - j) * width + extent[0];
    const auto* row = image->GetPointer(first * components);
    out = std::copy(row, row + columns * components, out);
  }
  return rows;
}

/// One of an image's two decodes (variables, composite): its share of the
/// progress bar, so that progress runs once from 0 to 1.
struct ProgressShare
{
  vtkINRReader* Reader;
  double Offset;
  double Scale;
};

bool ReportShare(void* data, double fraction)
{
  const ProgressShare* share = static_cast<const ProgressShare*>(data);
  share->Reader->UpdateProgress(share->Offset + share->Scale * fraction);
  return !share->Reader->GetAbortExecute();
}
}

bool vtkINRReader::IsImages() const
{
  return this->Model && this->DomainKind == INR_DOMAIN_IMAGES;
}

void vtkINRReader::SetNumberOfViewParameters(int count)
{
  const size_t n = static_cast<size_t>(std::max(count, 0));
  if (n != this->ViewParameters.size())
  {
    this->ViewParameters.resize(n, 0.0);
    this->Modified();
  }
}

void vtkINRReader::SetViewParameter(int index, double value)
{
  if (index < 0 || static_cast<size_t>(index) >= this->ViewParameters.size())
  {
    vtkErrorMacro(<< "View parameter " << index << " of " << this->ViewParameters.size()
                  << ": set their number first.");
    return;
  }
  // Compared as bits: NaN (refused when decoding) still counts as a change.
  double& current = this->ViewParameters[index];
  if (std::memcmp(&current, &value, sizeof value) != 0)
  {
    current = value;
    this->Modified();
  }
}

double vtkINRReader::GetViewParameter(int index) const
{
  return index >= 0 && static_cast<size_t>(index) < this->ViewParameters.size()
    ? this->ViewParameters[index]
    : std::numeric_limits<double>::quiet_NaN();
}

bool vtkINRReader::DescribeImages(vtkInformation* outInfo)
{
  uint64_t width = 0, height = 0;
  const int status = inr_image_size(this->Model, &width, &height);
  if (status != INR_OK)
  {
    this->ReportError("Cannot read the image size", status);
    return false;
  }
  const uint64_t largest = static_cast<uint64_t>(std::numeric_limits<int>::max());
  if (width == 0 || height == 0 || width > largest || height > largest)
  {
    vtkErrorMacro(<< "The images' size " << width << " x " << height
                  << " does not fit VTK extents.");
    return false;
  }
  if (!this->ReadViews())
  {
    return false;
  }
  this->NativeDimensions[0] = static_cast<int>(width);
  this->NativeDimensions[1] = static_cast<int>(height);
  this->NativeDimensions[2] = 1;

  // Each piece is cut from the whole image, decoded on every rank (an image
  // is one decode, and a small one).
  const int whole[6] = { 0, this->NativeDimensions[0] - 1, 0, this->NativeDimensions[1] - 1, 0, 0 };
  const double origin[3] = { 0, 0, 0 }, spacing[3] = { 1, 1, 1 };
  outInfo->Remove(CAN_HANDLE_PIECE_REQUEST());
  outInfo->Set(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT(), whole, 6);
  outInfo->Set(CAN_PRODUCE_SUB_EXTENT(), 1);
  outInfo->Set(vtkDataObject::ORIGIN(), origin, 3);
  outInfo->Set(vtkDataObject::SPACING(), spacing, 3);
  return true;
}

bool vtkINRReader::ReadViews()
{
  size_t parameters = 0, views = 0;
  int status = inr_view_parameter_count(this->Model, &parameters);
  if (status == INR_OK)
  {
    status = inr_view_count(this->Model, &views);
  }
  std::vector<double> values(parameters * views);
  if (status == INR_OK)
  {
    status = inr_views(this->Model, values.data(), values.size());
  }
  this->ViewParameterNames->Initialize();
  for (size_t p = 0; p < parameters && status == INR_OK; ++p)
  {
    const char* name = nullptr;
    status = inr_view_parameter_name(this->Model, p, &name);
    this->ViewParameterNames->InsertNextValue(status == INR_OK ? name : "");
  }
  if (status != INR_OK || parameters == 0 || views == 0 ||
    views > static_cast<size_t>(std::numeric_limits<int>::max()))
  {
    this->ReportError("Cannot read the stored views", status == INR_OK ? INR_ERROR_CORRUPT : status);
    return false;
  }

  this->StoredViews->Initialize();
  this->StoredViews->SetNumberOfComponents(static_cast<int>(parameters));
  this->StoredViews->SetNumberOfTuples(static_cast<vtkIdType>(views));
  std::copy(values.begin(), values.end(), this->StoredViews->GetPointer(0));
  // The library clamps each parameter to these.
  this->ViewParameterRanges->Initialize();
  for (size_t p = 0; p < parameters; ++p)
  {
    double low = values[p], high = values[p];
    for (size_t v = 1; v < views; ++v)
    {
      low = std::min(low, values[v * parameters + p]);
      high = std::max(high, values[v * parameters + p]);
    }
    this->ViewParameterRanges->InsertNextValue(low);
    this->ViewParameterRanges->InsertNextValue(high);
  }
  this->DefaultViewParameters->Initialize();
  this->DefaultViewParameters->SetNumberOfValues(static_cast<vtkIdType>(parameters));
  std::copy(values.begin(), values.begin() + parameters, this->DefaultViewParameters->GetPointer(0));
  this->StoredViewRange[0] = -1;
  this->StoredViewRange[1] = static_cast<int>(views) - 1;
  return true;
}

bool vtkINRReader::ResolveView(std::vector<double>& view)
{
  const vtkIdType parameters = this->StoredViews->GetNumberOfComponents();
  const vtkIdType views = this->StoredViews->GetNumberOfTuples();
  if (parameters == 0 || views == 0)
  {
    vtkErrorMacro(<< "No stored views to decode.");
    return false;
  }
  const double* stored = this->StoredViews->GetPointer(0);
  if (this->StoredView >= views)
  {
    vtkErrorMacro(<< "Stored View " << this->StoredView << ": " << this->FileName << " stores "
                  << views << " views (0 to " << views - 1 << "; -1: View Parameters).");
    return false;
  }
  if (this->StoredView >= 0)
  {
    view.assign(stored + this->StoredView * parameters, stored + (this->StoredView + 1) * parameters);
    return true;
  }
  if (this->ViewParameters.empty())
  {
    view.assign(stored, stored + parameters);
    return true;
  }
  if (this->ViewParameters.size() != static_cast<size_t>(parameters))
  {
    std::string names;
    for (vtkIdType p = 0; p < parameters; ++p)
    {
      names += (p ? ", " : "") + this->ViewParameterNames->GetValue(p);
    }
    const size_t n = this->ViewParameters.size();
    vtkErrorMacro(<< "View Parameters: " << n << (n == 1 ? " value" : " values") << " for the "
                  << parameters << " view parameters of " << this->FileName << " (" << names
                  << ").");
    return false;
  }
  // Non-finite values are left to the library, which refuses them.
  view = this->ViewParameters;
  return true;
}

int vtkINRReader::RequestImagesData(vtkDataObject* object, const int extent[6], double time)
{
  vtkImageData* output = vtkImageData::SafeDownCast(object);
  if (!output)
  {
    vtkErrorMacro(<< "The output of an images file is not image data.");
    return 0;
  }
  std::vector<double> view;
  if (!this->ResolveView(view))
  {
    return 0;
  }
  output->SetExtent(const_cast<int*>(extent));
  output->SetOrigin(0, 0, 0);
  output->SetSpacing(1, 1, 1);
  // An abort during the first decode skips the second.
  const bool decoded = this->DecodeImageArrays(output, extent, time, view) &&
    (this->GetAbortExecute() || this->DecodeComposite(output, extent, time, view));
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

bool vtkINRReader::DecodeImageArrays(
  vtkImageData* output, const int extent[6], double time, const std::vector<double>& view)
{
  const std::vector<size_t> variables = this->SelectedVariables();
  if (variables.empty())
  {
    return true; // (no variables given would decode them all)
  }
  const int width = this->NativeDimensions[0], height = this->NativeDimensions[1];
  auto count = [&](size_t v, size_t* n) {
    uint32_t components = 0;
    const int status = inr_variable_components(this->Model, v, &components);
    *n = static_cast<size_t>(width) * static_cast<size_t>(height) * components;
    return status;
  };
  std::vector<vtkSmartPointer<vtkFloatArray>> images;
  std::vector<float*> outputs;
  std::vector<size_t> lengths;
  if (!this->MakeArrays(variables, count, images, outputs, lengths))
  {
    return false;
  }
  ProgressShare share{ this, 0.0, 0.5 };
  inr_decode_options options;
  this->FillOptions(&options);
  options.progress = &ReportShare;
  options.user_data = &share;
  const int status = inr_decode_image(this->Model, time, view.data(), view.size(),
    variables.data(), variables.size(), outputs.data(), lengths.data(), &options);
  if (status == INR_ERROR_CANCELLED)
  {
    return true; // aborted by the pipeline: leave the output without arrays
  }
  if (status != INR_OK)
  {
    this->ReportError("Decoding the image failed", status);
    return false;
  }
  for (const auto& image : images)
  {
    output->GetPointData()->AddArray(FlipRows(image.Get(), width, height, extent));
  }
  return true;
}

bool vtkINRReader::DecodeComposite(
  vtkImageData* output, const int extent[6], double time, const std::vector<double>& view)
{
  const int width = this->NativeDimensions[0], height = this->NativeDimensions[1];
  vtkNew<vtkUnsignedCharArray> image;
  image->SetName("RGBA");
  image->SetNumberOfComponents(4);
  image->SetNumberOfTuples(static_cast<vtkIdType>(width) * height);
  ProgressShare share{ this, 0.5, 0.5 };
  inr_decode_options options;
  this->FillOptions(&options);
  options.progress = &ReportShare;
  options.user_data = &share;
  const int status = inr_decode_image_rgba(this->Model, time, view.data(), view.size(),
    image->GetPointer(0), static_cast<size_t>(image->GetNumberOfValues()), &options);
  if (status == INR_ERROR_UNSUPPORTED || status == INR_ERROR_CANCELLED)
  {
    return true; // a file without a composite, or aborted by the pipeline
  }
  if (status != INR_OK)
  {
    this->ReportError("Decoding the composite failed", status);
    return false;
  }
  output->GetPointData()->AddArray(FlipRows(image.Get(), width, height, extent));
  return true;
}
