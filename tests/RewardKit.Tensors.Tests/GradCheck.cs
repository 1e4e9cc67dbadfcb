using RewardKit.Tensors;

namespace RewardKit.Tensors.Tests;

/// <summary>
/// Gradient checks: compares the tape's float32 analytic gradients with central differences. The scalar that is
/// differentiated is L = Σ w ⊙ f(inputs) with fixed random weights w, accumulated in double, so that every output
/// element's gradient path is exercised; perturbations are ±<c>eps</c> on each input element.
/// </summary>
public static class GradCheck
{
    /// <summary>
    /// Asserts that d L / d input matches central differences for every element of every input that requires a gradient.
    /// <paramref name="f"/> must be deterministic (seed any randomness inside it).
    /// </summary>
    public static void Check(Func<Tape, Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-2, double tolerance = 1e-3, ulong seed = 7)
    {
        foreach (var x in inputs) x.ZeroGrad();
        var tape = new Tape();
        var output = f(tape, inputs);
        var weights = new double[output.Length];
        var rng = new Rng(seed);
        for (int i = 0; i < weights.Length; i++) weights[i] = rng.NextDouble() * 2 - 1;

        // Analytic: dL/dy = w.
        if (!output.RequiresGrad) throw new InvalidOperationException("GradCheck: the output takes no gradient.");
        tape.Backward(output, weights.Select(w => (float)w).ToArray());
        var analytic = inputs.Select(x => x.RequiresGrad ? x.Grad.ToArray() : null).ToArray();

        double Loss()
        {
            var t = new Tape { RecordsGradients = false };
            var y = f(t, inputs).Data;
            double sum = 0;
            for (int i = 0; i < y.Length; i++) sum += weights[i] * y[i];
            return sum;
        }

        for (int n = 0; n < inputs.Length; n++)
        {
            if (analytic[n] is not { } grad) continue;
            var data = inputs[n].Data;
            for (int i = 0; i < data.Length; i++)
            {
                float saved = data[i];
                data[i] = (float)(saved + eps);
                double plus = Loss();
                data[i] = (float)(saved - eps);
                double minus = Loss();
                data[i] = saved;
                double numeric = (plus - minus) / (2 * eps);
                double error = Math.Abs(numeric - grad[i]) / Math.Max(1.0, Math.Abs(numeric) + Math.Abs(grad[i]));
                if (error > tolerance)
                    throw new Xunit.Sdk.XunitException($"gradient of input {n} {inputs[n].Describe()} at [{i}]: analytic {grad[i]:G6}, numeric {numeric:G6} (relative error {error:E2} > {tolerance:E0}).");
            }
        }
    }

    /// <summary>A random input that requires a gradient.</summary>
    public static Tensor Random(ulong seed, params int[] shape) => Tensor.Normal(new Rng(seed), 0, 1, shape).RequireGrad();
}
