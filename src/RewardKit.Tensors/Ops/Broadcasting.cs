namespace RewardKit.Tensors;

/// <summary>
/// How the operands of an element-wise op map onto its NumPy-broadcast output, as rows. Output axes of size 1 are dropped
/// and adjacent axes that every operand walks the same way are merged, so the output becomes <see cref="Rows"/> contiguous
/// rows of <see cref="RowLength"/> elements, and within a row each operand is either a contiguous row (inner stride 1) or
/// one repeated value (inner stride 0). Two consequences are the fast paths: equal shapes become one row with both strides 1
/// (a single <c>TensorPrimitives</c> call), and (..., C) op (C) becomes rows of C where the second operand is always the
/// same row. The same plan drives the backward: a gradient summed over a broadcast axis is a row added into one row, or
/// a row summed into one value.
/// </summary>
internal sealed class BroadcastPlan
{
    readonly int[] _outerSizes;      // merged outer axes, innermost first
    readonly int[][] _outerStrides;  // [operand][outer axis], innermost first

    /// <summary>The broadcast output shape.</summary>
    public int[] OutputShape { get; }

    /// <summary>The number of output rows.</summary>
    public int Rows { get; }

    /// <summary>The length of each output row.</summary>
    public int RowLength { get; }

    /// <summary>Per operand: 1 when it is read as a contiguous row, 0 when one value is repeated along the row.</summary>
    public int[] InnerStride { get; }

    /// <summary>Plans the broadcast of <paramref name="shapes"/>; throws naming <paramref name="op"/> and the shapes when they do not broadcast.</summary>
    public BroadcastPlan(string op, params int[][] shapes)
    {
        int rank = 0;
        foreach (var s in shapes) rank = Math.Max(rank, s.Length);
        var output = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int size = 1;
            foreach (var s in shapes)
            {
                int ds = AlignedDim(s, d, rank);
                if (ds == 1) continue;
                if (size != 1 && size != ds)
                    throw new ArgumentException($"{op}: shapes {string.Join(" and ", shapes.Select(x => Shapes.Format(x)))} do not broadcast (axis {d - rank} is {size} against {ds}).");
                size = ds;
            }
            output[d] = size;
        }
        OutputShape = output;
        int n = shapes.Length;
        InnerStride = new int[n];

        // Walk the output axes innermost first, merging each into the current group when every operand's stride continues it.
        var sizes = new List<int>();
        var strides = new List<int[]>();
        var contiguous = new int[n]; // each operand's contiguous stride at the current axis
        Array.Fill(contiguous, 1);
        for (int d = rank - 1; d >= 0; d--)
        {
            int size = output[d];
            if (size == 0)
            {
                sizes.Clear(); strides.Clear(); sizes.Add(0); strides.Add(new int[n]);
                break;
            }
            var axisStride = new int[n];
            for (int k = 0; k < n; k++)
            {
                int ds = AlignedDim(shapes[k], d, rank);
                axisStride[k] = ds == 1 ? 0 : contiguous[k];
                contiguous[k] *= ds;
            }
            if (size == 1) continue;
            int last = sizes.Count - 1;
            bool merge = last >= 0;
            for (int k = 0; merge && k < n; k++) merge = axisStride[k] == strides[last][k] * sizes[last];
            if (merge) sizes[last] *= size;
            else { sizes.Add(size); strides.Add(axisStride); }
        }
        if (sizes.Count == 0) { sizes.Add(1); strides.Add(new int[n]); }
        RowLength = sizes[0];
        for (int k = 0; k < n; k++) InnerStride[k] = strides[0][k];
        _outerSizes = sizes.Skip(1).ToArray();
        _outerStrides = new int[n][];
        for (int k = 0; k < n; k++) _outerStrides[k] = strides.Skip(1).Select(s => s[k]).ToArray();
        long rows = 1;
        foreach (var s in _outerSizes) rows *= s;
        Rows = RowLength == 0 ? 0 : (int)rows;
    }

    static int AlignedDim(int[] shape, int d, int rank) => d < rank - shape.Length ? 1 : shape[d - (rank - shape.Length)];

    /// <summary>Writes each operand's flat offset for the start of output row <paramref name="row"/>.</summary>
    public void Offsets(int row, Span<int> offsets)
    {
        offsets.Clear();
        for (int a = 0; a < _outerSizes.Length; a++)
        {
            int size = _outerSizes[a];
            int index = row % size;
            row /= size;
            for (int k = 0; k < offsets.Length; k++) offsets[k] += index * _outerStrides[k][a];
        }
    }
}
