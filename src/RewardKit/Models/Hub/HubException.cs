namespace RewardKit.Models.Hub;

/// <summary>A Hub model could not be provided (not found, refused, unreachable, corrupted, or not cached while offline); the message names the id, the file and the fix.</summary>
public sealed class HubException(string message, Exception? inner = null) : IOException(message, inner);
