using RewardKit.Training;
using Spectre.Console;

namespace RewardKit.Cli;

/// <summary>
/// The terminal display of a training run (used by <c>train</c> and <c>quickstart</c>): a Spectre progress bar with ETA,
/// the SFT warm start's and the reward steps' loss and learning rate, and each <see cref="TrainingProgress.Message"/> as a line.
/// </summary>
static class TrainingProgressDisplay
{
    /// <summary>Runs <paramref name="work"/> with a progress sink that draws the bar and prints the messages; returns its result.</summary>
    public static T Run<T>(Func<IProgress<TrainingProgress>, T> work)
    {
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("preparing", autoStart: true, maxValue: 1);
                var progress = new Reporter(p =>
                {
                    if (p.Message is not null) AnsiConsole.MarkupLine(Markup.Escape(p.Message));
                    if (p.TotalSteps <= 0) return;
                    task.MaxValue = p.TotalSteps;
                    task.Value = p.Step;
                    var what = p.Stage == TrainingStage.WarmStart ? "sft step" : "step";
                    task.Description = double.IsNaN(p.Loss) ? $"{what} {p.Step}/{p.TotalSteps}" : $"{what} {p.Step}/{p.TotalSteps} loss {p.Loss:F4} lr {p.LearningRate:G3}";
                });
                result = work(progress);
            });
        return result;
    }

    /// <summary>Reports synchronously on the training thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
