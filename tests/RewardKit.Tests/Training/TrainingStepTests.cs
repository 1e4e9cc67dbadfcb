using RewardKit.Models;
using RewardKit.Tensors;
using RewardKit.Tensors.Optim;
using RewardKit.Training;
using RewardKit.Training.Losses;

namespace RewardKit.Tests.Training;

public sealed class TrainingStepTests
{
    static GptRewardModel Model() =>
        GptRewardModel.Create(new GptConfig { EmbeddingSize = 8, Heads = 2, Layers = 1, Positions = 8, VocabSize = 10, EosTokenId = null }.WithoutDropout(), 3);

    /// <summary>Two pairs per batch: rows 0-1 chosen, rows 2-3 rejected.</summary>
    static readonly TokenBatch[] Batches =
    [
        TokenBatch.FromSequences([[1, 2, 3], [4, 5], [1, 2, 6, 7], [8]]),
        TokenBatch.FromSequences([[2, 2, 9, 1, 3], [7, 5, 5], [3], [6, 1]]),
    ];

    static Tensor Loss(Tape tape, GptRewardModel model, TokenBatch batch)
    {
        var rewards = model.Forward(tape, batch, training: true);   // (4)
        return BradleyTerry.Loss(tape, rewards.Slice(0, 2), rewards.Slice(2, 2));
    }

    static MicroBatchLossBuilder Builder(GptRewardModel model) => (tape, micro) =>
        new MicroBatchLoss(Loss(tape, model, Batches[micro]), Batches[micro].Lengths.Sum());

    [NeedsOpsFact]
    public void Two_micro_batches_give_the_update_of_their_gradients_accumulated_by_hand()
    {
        var byHand = Model();
        var adamByHand = new AdamW(byHand.Parameters, 1e-2);
        var tape = new Tape();
        byHand.Parameters.ZeroGrad();
        double loss = 0;
        foreach (var batch in Batches)
        {
            var l = Loss(tape, byHand, batch);
            loss += l.ToScalar() / 2;
            tape.Backward(l, 0.5f);
            tape.Reset();
        }
        double norm = GradientClipping.ClipGlobalNorm(byHand.Parameters, 0.5);
        adamByHand.Step();

        var stepped = Model();
        var step = new TrainingStep(stepped.Parameters, new AdamW(stepped.Parameters, 1e-2), new Tape(), LearningRateSchedule.Constant(1e-2), 0.5);
        var result = step.Run(0, 2, Builder(stepped));

        Assert.Equal(loss, result.Loss);
        Assert.Equal(norm, result.GradNorm);
        Assert.True(norm > 0.5, "the test should exercise clipping");
        Assert.Equal(Batches.Sum(b => b.Lengths.Sum()), result.Tokens);
        Assert.True(byHand.Parameters.Values.SequenceEqual(stepped.Parameters.Values), "the step's update differs from the hand-written one");
    }

    [NeedsOpsFact]
    public void The_learning_rate_is_the_schedules_value_at_the_step_number()
    {
        var model = Model();
        var adam = new AdamW(model.Parameters, 1);
        var schedule = LearningRateSchedule.LinearWithWarmup(1e-3, 4, 10);
        var step = new TrainingStep(model.Parameters, adam, new Tape(), schedule, 1);

        var result = step.Run(2, 1, Builder(model));

        Assert.Equal(schedule.At(2), result.LearningRate);
        Assert.Equal(schedule.At(2), adam.LearningRate);
        Assert.Equal(1, adam.StepCount);
    }

    [NeedsOpsFact]
    public void A_non_finite_loss_throws_the_callers_exception_before_any_backward_or_update()
    {
        var model = Model();
        var before = model.Parameters.Values.ToArray();
        Divergence? seen = null;
        var step = new TrainingStep(model.Parameters, new AdamW(model.Parameters, 1e-2), new Tape(), LearningRateSchedule.Constant(1e-2), 1)
        {
            OnDiverged = d => { seen = d; return new InvalidOperationException("diverged"); },
        };

        var e = Assert.Throws<InvalidOperationException>(() => step.Run(6, 1, (tape, _) =>
        {
            var loss = Loss(tape, model, Batches[0]);
            loss.Data[0] = float.NaN;
            return new MicroBatchLoss(loss, 0);
        }));

        Assert.Equal("diverged", e.Message);
        Assert.Equal(new Divergence(7, "loss", double.NaN), seen);
        Assert.True(before.AsSpan().SequenceEqual(model.Parameters.Values));
        Assert.All(model.Parameters.Gradients.ToArray(), g => Assert.Equal(0f, g));
    }

    [NeedsOpsFact]
    public void A_non_finite_gradient_norm_throws_a_diverged_exception_naming_the_step_and_applies_no_update()
    {
        var model = Model();
        var before = model.Parameters.Values.ToArray();
        var step = new TrainingStep(model.Parameters, new AdamW(model.Parameters, 1e-2), new Tape(), LearningRateSchedule.Constant(1e-2), 1)
        {
            GradientReducer = new Poisoning(),
        };

        var e = Assert.Throws<TrainingDivergedException>(() => step.Run(0, 1, Builder(model)));

        Assert.Equal(1, e.Step);
        Assert.Contains("step 1: the gradient norm is NaN", e.Message);
        Assert.True(before.AsSpan().SequenceEqual(model.Parameters.Values));
    }

    [NeedsOpsFact]
    public void The_gradient_reducer_sees_the_accumulated_gradients_before_clipping_and_may_change_the_reported_loss_and_tokens()
    {
        var plain = Model();
        var expected = new TrainingStep(plain.Parameters, new AdamW(plain.Parameters, 1e-2), new Tape(), LearningRateSchedule.Constant(1e-2), 0)
            .Run(0, 2, Builder(plain));
        var model = Model();
        var doubling = new Doubling();
        var step = new TrainingStep(model.Parameters, new AdamW(model.Parameters, 1e-2), new Tape(), LearningRateSchedule.Constant(1e-2), 0)
        {
            GradientReducer = doubling,
        };

        var result = step.Run(0, 2, Builder(model));

        Assert.Equal(1, doubling.Calls);
        Assert.Equal(expected.GradNorm, doubling.NormSeen, 12);           // after both backward passes, before any clipping
        Assert.Equal(2 * expected.GradNorm, result.GradNorm, 9);          // the norm (and update) of the reduced gradients
        Assert.Equal(2 * expected.Loss, result.Loss);
        Assert.Equal(2 * expected.Tokens, result.Tokens);                 // a data-parallel job's tokens/s counts every rank's
    }

    sealed class Doubling : IGradientReducer
    {
        public int Calls;
        public double NormSeen;

        public void ReduceGradients(ParameterSet parameters)
        {
            Calls++;
            NormSeen = GradientClipping.GlobalNormReference(parameters.Gradients);
            foreach (ref var g in parameters.Gradients) g *= 2;
        }

        public double ReduceLoss(double loss) => 2 * loss;

        public long ReduceTokens(long tokens) => 2 * tokens;
    }

    sealed class Poisoning : IGradientReducer
    {
        public void ReduceGradients(ParameterSet parameters) => parameters.Gradients[0] = float.NaN;
    }
}
