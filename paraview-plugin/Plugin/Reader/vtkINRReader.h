/**
 * @class vtkINRReader
 * @brief Reads .inr files: scientific data stored as trained neural networks.
 *
 * The file's network is decoded on the CPU (libinr, through its C API) onto a
 * grid over the stored bounds: the stored grid, or any number of points per
 * axis (SamplingDimensions). Image files give vtkImageData with the stored
 * origin and spacing; rectilinear files give vtkRectilinearGrid (the stored
 * coordinates at the stored dimensions, uniform ones when resampled). Point
 * variables become point data, cell variables cell data (decoded at cell
 * centers); only the arrays enabled in the point and cell array selections
 * are decoded.
 *
 * Time: TIME_STEPS and TIME_RANGE are the stored steps; a requested time
 * between two steps is decoded at that time, since the network is
 * continuous in t (times outside the range are clamped to it).
 *
 * Level of detail (LevelOfDetail): a multiscale (ECNR) file is a pyramid of
 * scales, coarsest first; 0 decodes them all (the stored data), k only the
 * coarsest k (a quicker, smoother preview). Other files ignore it.
 *
 * Latent interpolation (LatentBlendFrom, LatentBlendTo, LatentBlendAlpha):
 * for files whose model embeds its variables as latent vectors (STSR-INR),
 * one more array: a variable decoded with its latent vector and range
 * blended toward another's, named "From~To@Alpha" as `inr decode --latent`
 * names it.
 *
 * Unstructured files (OutputMode): the stored mesh as vtkUnstructuredGrid
 * (point variables at the nodes, cell variables at the cell centroids),
 * the mesh refined RefinementLevel times (each tetrahedron or hexahedron
 * into 8, ...: smooth close-ups), or a resampled vtkImageData of
 * SamplingDimensions over the mesh's bounds, where points outside the mesh
 * are 0, marked 0 in the point array vtkValidPointMask and hidden by
 * vtkGhostType (as ParaView's Resample With Dataset marks them). Mesh
 * outputs carry vtkOriginalCellIds, the stored cell of each cell.
 *
 * Files of rendered images (NeRVI: the images domain, e.g. isosurface
 * renderings by time and camera) give one 2-D vtkImageData of width x
 * height x 1 points (origin 0, spacing 1, the picture's top row last, as
 * VTK's y points up) per time and view: each selected variable as a float
 * point array and, when the file names a composite, its 8-bit picture as
 * the 4-component point array "RGBA" (shown as is with Map Scalars off).
 * The view is one value per view parameter (ViewParameterNames, e.g. theta
 * and phi), any values between the stored ones (beyond them, clamped):
 * ViewParameters, or stored view StoredView. Time is continuous as above.
 *
 * Parallel: for grids the reader sets CAN_PRODUCE_SUB_EXTENT, and decodes
 * only the update extent it is asked for; pieces equal the whole grid bit for
 * bit. For meshes it sets CAN_HANDLE_PIECE_REQUEST: each rank decodes its
 * share of the cells, with the nodes they use.
 *
 * Errors (missing, truncated, corrupt or unsupported files; bad settings)
 * are reported with vtkErrorMacro and give an empty output; decoding reports
 * progress and stops when the pipeline aborts.
 */
#ifndef vtkINRReader_h
#define vtkINRReader_h

#include "vtkDataObjectAlgorithm.h"
#include "vtkINRReaderModule.h" // for the export macro

#include "vtkSmartPointer.h" // for vtkSmartPointer

#include <functional> // for std::function
#include <string>     // for std::string
#include <vector>     // for std::vector

class vtkDataArraySelection;
class vtkDataSet;
class vtkDoubleArray;
class vtkFloatArray;
class vtkImageData;
class vtkStringArray;
struct inr_model;

class VTKINRREADER_EXPORT vtkINRReader : public vtkDataObjectAlgorithm
{
public:
  static vtkINRReader* New();
  vtkTypeMacro(vtkINRReader, vtkDataObjectAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  ///@{
  /// The .inr file to read.
  vtkSetStringMacro(FileName);
  vtkGetStringMacro(FileName);
  ///@}

  ///@{
  /// Points per axis of the grid to decode, over the stored bounds. 0 0 0
  /// (the default) or any 0 means the stored grid; for a resampled mesh, 64
  /// points along the longest side of its bounding box and the other axes in
  /// proportion.
  vtkSetVector3Macro(SamplingDimensions, int);
  vtkGetVector3Macro(SamplingDimensions, int);
  ///@}

  /// Points per axis of the stored grid (0 0 0 before a file is read, and
  /// for unstructured files; width, height and 1 for images files).
  vtkGetVector3Macro(NativeDimensions, int);

  /// What an unstructured file gives.
  enum OutputModes
  {
    MESH = 0,            ///< the stored mesh
    REFINED_MESH = 1,    ///< the stored mesh refined RefinementLevel times
    RESAMPLED_IMAGE = 2, ///< image data of SamplingDimensions over the mesh's bounds
  };

  ///@{
  /// Output of unstructured files (OutputModes); ignored for grids.
  vtkSetClampMacro(OutputMode, int, MESH, RESAMPLED_IMAGE);
  vtkGetMacro(OutputMode, int);
  ///@}

  ///@{
  /// Times each cell is refined in REFINED_MESH mode (each level multiplies
  /// the cells by 8 for tetrahedra and hexahedra).
  vtkSetClampMacro(RefinementLevel, int, 0, 8);
  vtkGetMacro(RefinementLevel, int);
  ///@}

  /// 1 when the open file holds an unstructured mesh.
  int GetIsMesh() const { return this->IsMesh() ? 1 : 0; }

  ///@{
  /// Level of detail of multiscale (ECNR) files: 0 (the default) decodes
  /// every scale, k the coarsest k only (all of them when k exceeds their
  /// number). Ignored by files of other model families.
  vtkSetClampMacro(LevelOfDetail, int, 0, VTK_INT_MAX);
  vtkGetMacro(LevelOfDetail, int);
  ///@}

  /// 1 when the open file holds rendered images (NeRVI).
  int GetIsImages() const { return this->IsImages() ? 1 : 0; }

  ///@{
  /// The view of an images file: one value per view parameter, in the
  /// file's order. None (the default) means the first stored view; another
  /// count than the file's parameters is an error. Used while StoredView is
  /// -1. Ignored for other files.
  void SetNumberOfViewParameters(int count);
  void SetViewParameter(int index, double value);
  int GetNumberOfViewParameters() const { return static_cast<int>(this->ViewParameters.size()); }
  double GetViewParameter(int index) const;
  ///@}

  ///@{
  /// Decodes stored view k of an images file (0 to its number of views - 1)
  /// instead of ViewParameters; -1 (the default) uses ViewParameters.
  vtkSetClampMacro(StoredView, int, -1, VTK_INT_MAX);
  vtkGetMacro(StoredView, int);
  ///@}

  /// What the open images file stores (empty for other files): the names of
  /// its view parameters; their stored [min, max], parameter after
  /// parameter; its stored views, one tuple of one value per parameter
  /// each; and its first stored view (what an empty ViewParameters means).
  vtkStringArray* GetViewParameterNames() { return this->ViewParameterNames; }
  vtkDoubleArray* GetViewParameterRanges() { return this->ViewParameterRanges; }
  vtkDoubleArray* GetStoredViews() { return this->StoredViews; }
  vtkDoubleArray* GetDefaultViewParameters() { return this->DefaultViewParameters; }

  /// The range of StoredView for the open file: -1 and its number of stored
  /// views - 1 (-1 -1 for files without views).
  vtkGetVector2Macro(StoredViewRange, int);

  /// Scales of the open file's multiscale (ECNR) model, coarsest first; 0
  /// for other model families and before a file is read.
  vtkGetMacro(NumberOfScales, int);

  /// The range of LevelOfDetail for the open file: 0 and its number of
  /// scales (0 0 for files without scales).
  vtkGetVector2Macro(LevelOfDetailRange, int);

  ///@{
  /// Latent interpolation, for files whose model embeds its variables
  /// (STSR-INR): with LatentBlendFrom and LatentBlendTo naming two variables
  /// of as many components, the output gets one more array, From decoded
  /// with its latent vector and range blended toward To's by
  /// LatentBlendAlpha (0: From, 1: To), named "From~To@Alpha". An empty name
  /// or "(none)" (the default): no blend. Other files report an error when
  /// a blend is asked for.
  vtkSetStringMacro(LatentBlendFrom);
  vtkGetStringMacro(LatentBlendFrom);
  vtkSetStringMacro(LatentBlendTo);
  vtkGetStringMacro(LatentBlendTo);
  vtkSetClampMacro(LatentBlendAlpha, double, 0.0, 1.0);
  vtkGetMacro(LatentBlendAlpha, double);
  ///@}

  /// The variables LatentBlendFrom and LatentBlendTo may name: all of them
  /// when the open file's model embeds its variables, none otherwise.
  vtkStringArray* GetLatentBlendChoices() { return this->LatentBlendChoices; }

  ///@{
  /// Decoding threads per process; 0 (the default) uses all cores.
  vtkSetClampMacro(NumberOfThreads, int, 0, 1024);
  vtkGetMacro(NumberOfThreads, int);
  ///@}

  ///@{
  /// Which variables to decode, by association. All are enabled by default.
  vtkDataArraySelection* GetPointDataArraySelection() { return this->PointSelection; }
  vtkDataArraySelection* GetCellDataArraySelection() { return this->CellSelection; }
  int GetNumberOfPointArrays();
  const char* GetPointArrayName(int index);
  int GetPointArrayStatus(const char* name);
  void SetPointArrayStatus(const char* name, int status);
  int GetNumberOfCellArrays();
  const char* GetCellArrayName(int index);
  int GetCellArrayStatus(const char* name);
  void SetCellArrayStatus(const char* name, int status);
  ///@}

  /// 1 when `name` is an .inr file (also a damaged one: reading it then
  /// reports what is wrong), 0 when it is missing or something else.
  int CanReadFile(const char* name);

  /// Includes the array selections.
  vtkMTimeType GetMTime() override;

protected:
  vtkINRReader();
  ~vtkINRReader() override;

  int FillOutputPortInformation(int port, vtkInformation* info) override;
  int RequestDataObject(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  int RequestInformation(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  int RequestData(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;

private:
  vtkINRReader(const vtkINRReader&) = delete;
  void operator=(const vtkINRReader&) = delete;

  /// Opens FileName unless it is open already; reports errors.
  bool OpenFile();
  void CloseFile();
  /// RequestInformation's parts: the extent and geometry of a grid or mesh
  /// output, the time steps, and the variables offered for selection.
  bool DescribeGrid(vtkInformation* outInfo);
  void DescribeTime(vtkInformation* outInfo);
  bool ListVariables();
  /// The dimensions to decode: SamplingDimensions, or the stored (for a
  /// mesh, the default resampling) ones.
  void DecodeDimensions(uint64_t dims[3]) const;
  bool IsMesh() const;
  /// Whether the output is a vtkUnstructuredGrid (a mesh file, not resampled).
  bool MeshOutput() const;
  /// Mesh outputs (vtkINRReaderMesh.cxx): the piece of the (refined) mesh,
  /// its arrays, and the resampled image's arrays with the mask.
  int RequestMeshData(vtkInformation* outInfo, vtkDataObject* output, double time);
  bool ResampleArrays(vtkDataSet* output, const int extent[6], double time);
  bool IsImages() const;
  /// Images outputs (vtkINRReaderImages.cxx): the image's extent and
  /// geometry (reading the stored views), and one image's arrays for
  /// `extent` (a non-empty update extent).
  bool DescribeImages(vtkInformation* outInfo);
  bool ReadViews();
  int RequestImagesData(vtkDataObject* output, const int extent[6], double time);
  /// The view to decode (StoredView, ViewParameters or the first stored
  /// one); false with an error for a bad setting.
  bool ResolveView(std::vector<double>& view);
  bool DecodeImageArrays(
    vtkImageData* output, const int extent[6], double time, const std::vector<double>& view);
  bool DecodeComposite(
    vtkImageData* output, const int extent[6], double time, const std::vector<double>& view);
  /// Fills `arrays` with new float arrays for `variables`, sized by `count`
  /// (the library's value count of one variable); `pointers` and `lengths`
  /// as the decode functions take them.
  bool MakeArrays(const std::vector<size_t>& variables,
    const std::function<int(size_t, size_t*)>& count,
    std::vector<vtkSmartPointer<vtkFloatArray>>& arrays, std::vector<float*>& pointers,
    std::vector<size_t>& lengths);
  /// Adds decoded arrays to the output's point or cell data; `cellsToo`
  /// false puts every array in the point data (a resample).
  void AttachArrays(vtkDataSet* output, const std::vector<size_t>& variables,
    const std::vector<vtkSmartPointer<vtkFloatArray>>& arrays, bool cellsToo);
  /// The decode options with this reader's thread count, level of detail
  /// and progress.
  void FillOptions(struct inr_decode_options* options);
  /// Indices of the variables to decode.
  std::vector<size_t> SelectedVariables() const;
  /// Decodes `extent` of the grid into `output`'s point and cell data.
  bool DecodeArrays(vtkDataSet* output, const int extent[6], double time);
  /// Decodes `variables` on `extent` with `options` into new arrays of
  /// `output` (the one array renamed `name` when given); `failure` heads
  /// the error message.
  bool DecodeGrid(vtkDataSet* output, const int extent[6], double time,
    const std::vector<size_t>& variables, const struct inr_decode_options& options,
    const char* failure, const char* name);
  /// The blend asked for: false (with an error) when it names unknown
  /// variables or the model embeds none; `from` is SIZE_MAX for no blend.
  bool ResolveBlend(size_t* from, size_t* to);
  /// Adds the blended array of `from` toward `to` for `extent`.
  bool DecodeBlend(vtkDataSet* output, const int extent[6], double time, size_t from, size_t to);
  /// Sets the coordinates of a rectilinear output for `extent`.
  bool SetRectilinearCoordinates(vtkDataObject* output, const int extent[6]);
  /// Reports the library's last error with `what` as context.
  void ReportError(const char* what, int status);
  static bool Progress(void* self, double fraction);

  char* FileName = nullptr;
  int SamplingDimensions[3] = { 0, 0, 0 };
  int NativeDimensions[3] = { 0, 0, 0 };
  int NumberOfThreads = 0;
  int OutputMode = MESH;
  int RefinementLevel = 1;
  int LevelOfDetail = 0;
  int NumberOfScales = 0;
  int LevelOfDetailRange[2] = { 0, 0 };
  char* LatentBlendFrom = nullptr;
  char* LatentBlendTo = nullptr;
  double LatentBlendAlpha = 0.5;
  vtkStringArray* LatentBlendChoices;
  std::vector<double> ViewParameters;
  int StoredView = -1;
  int StoredViewRange[2] = { -1, -1 };
  vtkStringArray* ViewParameterNames;
  vtkDoubleArray* ViewParameterRanges;
  vtkDoubleArray* StoredViews;
  vtkDoubleArray* DefaultViewParameters;
  double Bounds[6] = { 0, 0, 0, 0, 0, 0 };
  vtkDataArraySelection* PointSelection;
  vtkDataArraySelection* CellSelection;

  inr_model* Model = nullptr;
  std::string OpenedFile;
  int DomainKind = -1;
  std::vector<double> TimeValues;
};

#endif
