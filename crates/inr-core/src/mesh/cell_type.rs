//! VTK cell types (vtkCellType.h), the codes meshes and the file store.

/// The cell types this version reads: linear and quadratic, not polyhedra
/// (whose connectivity is a face stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CellType {
    Vertex = 1,
    PolyVertex = 2,
    Line = 3,
    PolyLine = 4,
    Triangle = 5,
    TriangleStrip = 6,
    Polygon = 7,
    Pixel = 8,
    Quad = 9,
    Tetra = 10,
    Voxel = 11,
    Hexahedron = 12,
    Wedge = 13,
    Pyramid = 14,
    QuadraticEdge = 21,
    QuadraticTriangle = 22,
    QuadraticQuad = 23,
    QuadraticTetra = 24,
    QuadraticHexahedron = 25,
    QuadraticWedge = 26,
    QuadraticPyramid = 27,
}

/// Every type, in code order.
pub const CELL_TYPES: [CellType; 21] = {
    use CellType::*;
    [
        Vertex,
        PolyVertex,
        Line,
        PolyLine,
        Triangle,
        TriangleStrip,
        Polygon,
        Pixel,
        Quad,
        Tetra,
        Voxel,
        Hexahedron,
        Wedge,
        Pyramid,
        QuadraticEdge,
        QuadraticTriangle,
        QuadraticQuad,
        QuadraticTetra,
        QuadraticHexahedron,
        QuadraticWedge,
        QuadraticPyramid,
    ]
};

impl CellType {
    /// The type of a VTK code; `None` for codes this version does not read.
    pub fn from_code(code: u8) -> Option<CellType> {
        CELL_TYPES.into_iter().find(|t| t.code() == code)
    }

    /// The VTK code.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// Points per cell; `None` for the types with any number.
    pub fn points(self) -> Option<usize> {
        use CellType::*;
        match self {
            PolyVertex | PolyLine | TriangleStrip | Polygon => None,
            Vertex => Some(1),
            Line => Some(2),
            Triangle | QuadraticEdge => Some(3),
            Pixel | Quad | Tetra => Some(4),
            Pyramid => Some(5),
            Wedge | QuadraticTriangle => Some(6),
            Voxel | Hexahedron | QuadraticQuad => Some(8),
            QuadraticTetra => Some(10),
            QuadraticPyramid => Some(13),
            QuadraticWedge => Some(15),
            QuadraticHexahedron => Some(20),
        }
    }
}
