using RewardKit.Tensors;

namespace RewardKit.Training.Losses;

/// <summary>
/// Bradley-Terry per objective, for a reward model with one head per objective (K heads), each trained on the pairs that
/// carry its label:
/// <code>
/// s_ik   = label of pair i for objective k: +1 chosen better, −1 rejected better, 0 or absent: no label (skipped)
/// ℓ_k    = mean over {i : s_ik ≠ 0} of −log σ(s_ik · (r_k(chosen_i) − r_k(rejected_i)))
/// loss   = Σ_k ℓ_k over the objectives with at least one labelled pair
/// </code>
/// </summary>
public static class ObjectiveBradleyTerry
{
    /// <summary>The loss, shape ().</summary>
    /// <param name="tape">The tape recording the step.</param>
    /// <param name="chosen">(N, K) every head's reward of the chosen responses.</param>
    /// <param name="rejected">(N, K) every head's reward of the rejected responses.</param>
    /// <param name="labels">(N·K) row-major signs s_ik in {−1, 0, +1} (no gradient).</param>
    /// <returns>The loss and, per objective, how many pairs carried its label.</returns>
    public static (Tensor Loss, int[] Labelled) Loss(Tape tape, Tensor chosen, Tensor rejected, ReadOnlySpan<float> labels)
    {
        Shapes.RequireEqual("ObjectiveBradleyTerry.Loss", chosen, rejected);
        Shapes.RequireRank("ObjectiveBradleyTerry.Loss", chosen, 2, "chosen");
        int n = chosen.Dim(0), k = chosen.Dim(1);
        if (labels.Length != n * k) throw new ArgumentException($"ObjectiveBradleyTerry.Loss: {labels.Length} labels for {n} pairs × {k} objectives.", nameof(labels));
        var counts = new int[k];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k; j++)
                if (labels[i * k + j] != 0) counts[j]++;
        var signs = tape.Empty([n, k]);                                                   // (N, K) s_ik
        var weights = tape.Empty([n, k]);                                                 // (N, K) 1/|labelled_k| where labelled
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k; j++)
            {
                float s = MathF.Sign(labels[i * k + j]);
                signs.Data[i * k + j] = s;
                weights.Data[i * k + j] = s == 0 ? 0 : 1f / counts[j];
            }
        var delta = tape.Mul(tape.Sub(chosen, rejected), signs);                         // (N, K) s · Δ
        var perPair = tape.Mul(tape.LogSigmoid(delta), weights);                        // (N, K)
        return (tape.Scale(tape.Sum(perPair), -1f), counts);                             // ()
    }
}
