namespace RewardKit.Tensors;

/// <summary>Embedding lookup: rows of a table by id; the backward scatter-adds into the table.</summary>
public static class EmbeddingOp
{
    /// <summary>weight (V, C), ids of shape <paramref name="idsShape"/> → idsShape + (C). Throws naming the position of an id outside [0, V).</summary>
    public static Tensor Embedding(this Tape tape, Tensor weight, int[] ids, int[] idsShape)
        => throw new NotImplementedException("Embedding: not built yet");

}
