// The `rewardkit` command-line tool. Every verb lives in Commands/ as one thin file that binds options and calls
// the library; CliApp wires them together and maps exceptions to exit codes.
return RewardKit.Cli.CliApp.Run(args);
