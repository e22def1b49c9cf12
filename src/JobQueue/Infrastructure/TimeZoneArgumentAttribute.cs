using System.Management.Automation;

namespace JobQueue.Infrastructure;

/// <summary>Lets -TimeZone take what Get-TimeZone returns as well as an id.</summary>
internal sealed class TimeZoneArgumentAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData) =>
        (inputData is PSObject ps ? ps.BaseObject : inputData) is TimeZoneInfo zone ? zone.Id : inputData;
}
