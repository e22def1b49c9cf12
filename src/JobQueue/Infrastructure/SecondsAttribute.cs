using System.Globalization;
using System.Management.Automation;

namespace JobQueue.Infrastructure;

/// <summary>
/// Lets a TimeSpan parameter take a plain number as seconds (-PollInterval 5, as in the guide's
/// poll_interval=5.0), where PowerShell would otherwise read it as ticks. TimeSpans and
/// '00:00:05' strings pass through unchanged.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed class SecondsAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        return value switch
        {
            int i => TimeSpan.FromSeconds(i),
            long l => TimeSpan.FromSeconds(l),
            double d => TimeSpan.FromSeconds(d),
            float f => TimeSpan.FromSeconds(f),
            decimal m => TimeSpan.FromSeconds((double)m),
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) => TimeSpan.FromSeconds(seconds),
            _ => inputData,
        };
    }
}
