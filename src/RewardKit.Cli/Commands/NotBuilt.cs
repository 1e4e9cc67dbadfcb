namespace RewardKit.Cli.Commands;

/// <summary>What a verb whose library is not built yet answers.</summary>
static class NotBuilt
{
    public static int Report(string verb)
    {
        Console.Error.WriteLine($"error: `{verb}` is not built yet in this version of RewardKit.");
        return CliApp.UserError;
    }
}
