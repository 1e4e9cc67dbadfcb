namespace RewardKit.Testing;

/// <summary>A fact that needs Debian's chromium and chromedriver in /usr/bin; skipped with a visible reason when absent.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Browser = "/usr/bin/chromium", Driver = "/usr/bin/chromedriver";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Browser) || !File.Exists(Driver))
            Skip = $"headless Chromium is absent ({Browser} and {Driver} are needed: apt-get install -y chromium chromium-driver); browser test skipped.";
    }
}
