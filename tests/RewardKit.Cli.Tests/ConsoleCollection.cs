namespace RewardKit.Cli.Tests;

/// <summary>
/// Tests that redirect <see cref="Console.Out"/> or <see cref="Console.Error"/> (process-wide) run one at a time,
/// so one test never reads another's output or restores the wrong writer.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "Console redirection";
}
