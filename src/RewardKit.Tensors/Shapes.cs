namespace RewardKit.Tensors;

/// <summary>Shape arithmetic and the checks every op runs at its entry.</summary>
public static class Shapes
{
    /// <summary>The number of elements of a shape (1 for a scalar).</summary>
    public static int Product(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        if (n > int.MaxValue) throw new ArgumentException($"shape {Format(shape)} has more than {int.MaxValue} elements.");
        return (int)n;
    }

    /// <summary>"(2, 3, 4)".</summary>
    public static string Format(ReadOnlySpan<int> shape) => "(" + string.Join(", ", shape.ToArray()) + ")";

    /// <summary>Throws when an axis is negative.</summary>
    public static int[] Validate(int[] shape)
    {
        foreach (var d in shape)
            if (d < 0) throw new ArgumentException($"shape {Format(shape)} has a negative axis.");
        return shape;
    }

    /// <summary>True when both shapes are equal.</summary>
    public static bool Equal(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    /// <summary>Throws <see cref="ArgumentException"/> naming the op and both shapes unless they are equal.</summary>
    public static void RequireEqual(string op, Tensor a, Tensor b)
    {
        if (!Equal(a.Shape, b.Shape))
            throw new ArgumentException($"{op}: shapes {Format(a.Shape)} and {Format(b.Shape)} must be equal.");
    }

    /// <summary>Throws naming the op and the shape unless <paramref name="t"/> has <paramref name="rank"/> axes.</summary>
    public static void RequireRank(string op, Tensor t, int rank, string what = "input")
    {
        if (t.Rank != rank)
            throw new ArgumentException($"{op}: {what} must have {rank} axes, got shape {Format(t.Shape)}.");
    }

    /// <summary>Throws <see cref="ArgumentException"/> with "<paramref name="op"/>: <paramref name="message"/> (shapes a and b)" when the condition fails.</summary>
    public static void Require(bool condition, string op, string message, Tensor a, Tensor? b = null)
    {
        if (!condition)
            throw new ArgumentException(b is null
                ? $"{op}: {message} (shape {Format(a.Shape)})."
                : $"{op}: {message} (shapes {Format(a.Shape)} and {Format(b.Shape)}).");
    }

    /// <summary>The NumPy broadcast of two shapes; throws naming the op when they do not broadcast.</summary>
    public static int[] Broadcast(string op, ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {Format(a)} and {Format(b)} do not broadcast.");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>Resolves one -1 axis against an element count.</summary>
    internal static int[] Resolve(int[] shape, int length, string op, int[] from)
    {
        var resolved = (int[])shape.Clone();
        int unknown = -1, known = 1;
        for (int i = 0; i < resolved.Length; i++)
        {
            if (resolved[i] == -1)
            {
                if (unknown >= 0) throw new ArgumentException($"{op}: only one axis may be -1 in {Format(shape)}.");
                unknown = i;
            }
            else if (resolved[i] < 0) throw new ArgumentException($"{op}: axis {i} of {Format(shape)} is negative.");
            else known *= resolved[i];
        }
        if (unknown >= 0)
        {
            if (known == 0 || length % known != 0)
                throw new ArgumentException($"{op}: cannot view {Format(from)} as {Format(shape)}.");
            resolved[unknown] = length / known;
        }
        if (Product(resolved) != length)
            throw new ArgumentException($"{op}: cannot view {Format(from)} ({length} elements) as {Format(shape)}.");
        return resolved;
    }
}
