using System.Globalization;

namespace RewardKit.Export;

/// <summary>How <see cref="GptOnnxExporter"/> writes a reward model as ONNX. The same text is the CLI help of <c>rewardkit export onnx</c>.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The lowest opset accepted: 17 is the first with <c>LayerNormalization</c>.</summary>
    public const int MinOpset = 17;

    /// <summary>The highest opset accepted (every operator the graph uses is unchanged in meaning up to it).</summary>
    public const int MaxOpset = 21;

    /// <summary>The ONNX operator set of the default domain. Default 17; 17 to 21 are accepted.</summary>
    public int Opset { get; init; } = MinOpset;

    /// <summary>
    /// Make the batch dimension symbolic (<c>batch</c>) so one session scores any number of rows. Default off: the batch
    /// is fixed at 1, as <c>torch.onnx.export</c>'s static shapes. The sequence dimension (<c>seq</c>) is always symbolic.
    /// </summary>
    public bool DynamicBatch { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad option and the fix.</summary>
    public OnnxExportOptions Validate()
    {
        if (Opset is < MinOpset or > MaxOpset)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--opset {Opset}: use {MinOpset} to {MaxOpset} ({MinOpset} is the first opset with LayerNormalization, which the graph uses)."), nameof(Opset));
        return this;
    }

    /// <summary>The ONNX IR version that goes with <see cref="Opset"/> (the one the ONNX release that introduced it wrote).</summary>
    public long IrVersion => Opset switch
    {
        17 or 18 => 8,
        19 or 20 => 9,
        _ => 10,
    };
}
