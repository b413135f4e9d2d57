/// The tables every Conduit organization has, with Dataverse's names, columns and option values
/// (reference `dataverse-integration.md` §5–§7).
public enum BuiltInTables {
    /// All built-in tables.
    public static let all: [EntityMetadata] = [
        organization, businessunit, systemuser, account, contact, sdkmessage, sdkmessagefilter, plugintype,
        sdkmessageprocessingstep, sdkmessageprocessingstepimage, serviceendpoint, asyncoperation, workflow,
        pluginassembly,
    ]

    /// Plug-in assemblies (`pluginassembly`): a sandboxed one (`isolationmode` 2) is a WebAssembly module, its
    /// `content` base64 (binary `.wasm`, or the text format, WAT); its `plugintype` rows name the functions it
    /// exports (docs/sandbox.md).
    public static let pluginassembly = EntityMetadata(
        logicalName: "pluginassembly",
        entitySetName: "pluginassemblies",
        displayName: "Plug-in Assembly",
        primaryNameMaxLength: 256,
        ownership: .organizationOwned,
        columns: [
            AttributeMetadata("content", .memo, maxLength: 16 << 20),
            AttributeMetadata(
                "isolationmode",
                .picklist,
                options: [OptionMetadata(1, "None"), OptionMetadata(2, "Sandbox"), OptionMetadata(3, "External")]
            ),
            AttributeMetadata(
                "sourcetype",
                .picklist,
                options: [
                    OptionMetadata(0, "Database"), OptionMetadata(1, "Disk"), OptionMetadata(2, "Normal"),
                    OptionMetadata(3, "AzureWebApp"), OptionMetadata(4, "File Store"),
                ]
            ),
            AttributeMetadata("version", .string, maxLength: 48),
            AttributeMetadata("culture", .string, maxLength: 32),
            AttributeMetadata("publickeytoken", .string, maxLength: 32),
            AttributeMetadata("description", .memo),
        ]
    )

    /// Processes (`workflow`): Conduit runs background workflows (category 0, mode 0) whose definition is JSON in
    /// `clientdata` (docs/workflows.md); `xaml` is kept but not run.
    public static let workflow = EntityMetadata(
        logicalName: "workflow",
        entitySetName: "workflows",
        displayName: "Process",
        primaryNameMaxLength: 100,
        states: [OptionMetadata(0, "Draft"), OptionMetadata(1, "Activated")],
        statuses: [OptionMetadata(1, "Draft", state: 0), OptionMetadata(2, "Activated", state: 1)],
        columns: [
            AttributeMetadata(
                "type",
                .picklist,
                options: [
                    OptionMetadata(1, "Definition"), OptionMetadata(2, "Activation"), OptionMetadata(3, "Template"),
                ]
            ),
            AttributeMetadata(
                "category",
                .picklist,
                options: [
                    OptionMetadata(0, "Workflow"), OptionMetadata(1, "Dialog"), OptionMetadata(2, "Business Rule"),
                    OptionMetadata(3, "Action"), OptionMetadata(4, "Business Process Flow"),
                    OptionMetadata(5, "Modern Flow"),
                ]
            ),
            AttributeMetadata(
                "mode",
                .picklist,
                options: [OptionMetadata(0, "Background"), OptionMetadata(1, "Real-time")]
            ),
            AttributeMetadata(
                "scope",
                .picklist,
                options: [
                    OptionMetadata(1, "User"), OptionMetadata(2, "Business Unit"),
                    OptionMetadata(3, "Parent: Child Business Units"), OptionMetadata(4, "Organization"),
                ]
            ),
            AttributeMetadata("primaryentity", .string, maxLength: 100),
            AttributeMetadata("ondemand", .boolean),
            AttributeMetadata("subprocess", .boolean),
            AttributeMetadata("triggeroncreate", .boolean),
            AttributeMetadata("triggerondelete", .boolean),
            AttributeMetadata("triggeronupdateattributelist", .memo, maxLength: 1_073_741_823),
            AttributeMetadata("asyncautodelete", .boolean),
            AttributeMetadata("description", .memo),
            AttributeMetadata("clientdata", .memo, maxLength: 1_073_741_823),
            AttributeMetadata("xaml", .memo, maxLength: 1_073_741_823),
        ]
    )

    public static let organization = EntityMetadata(
        logicalName: "organization",
        entitySetName: "organizations",
        displayName: "Organization",
        ownership: .organizationOwned,
        columns: []
    )

    public static let businessunit = EntityMetadata(
        logicalName: "businessunit",
        entitySetName: "businessunits",
        displayName: "Business Unit",
        ownership: .organizationOwned,
        columns: [
            AttributeMetadata("parentbusinessunitid", .lookup, targets: ["businessunit"]),
            AttributeMetadata("organizationid", .lookup, targets: ["organization"]),
            AttributeMetadata("description", .memo),
        ]
    )

    public static let systemuser = EntityMetadata(
        logicalName: "systemuser",
        entitySetName: "systemusers",
        displayName: "User",
        primaryNameAttribute: "fullname",
        primaryNameMaxLength: 200,
        columns: [
            AttributeMetadata("firstname", .string, maxLength: 64),
            AttributeMetadata("lastname", .string, maxLength: 64),
            AttributeMetadata("domainname", .string, maxLength: 1024),
            AttributeMetadata("internalemailaddress", .string, maxLength: 100),
            AttributeMetadata("businessunitid", .lookup, targets: ["businessunit"]),
            AttributeMetadata("organizationid", .lookup, targets: ["organization"]),
            AttributeMetadata("isdisabled", .boolean),
            AttributeMetadata("azureactivedirectoryobjectid", .uniqueidentifier),
            AttributeMetadata("applicationid", .uniqueidentifier),
        ]
    )

    public static let account = EntityMetadata(
        logicalName: "account",
        entitySetName: "accounts",
        displayName: "Account",
        primaryNameMaxLength: 160,
        columns: [
            AttributeMetadata("accountnumber", .string, maxLength: 20),
            AttributeMetadata("telephone1", .string, maxLength: 50),
            AttributeMetadata("emailaddress1", .string, maxLength: 100),
            AttributeMetadata("websiteurl", .string, maxLength: 200),
            AttributeMetadata("address1_city", .string, maxLength: 80),
            AttributeMetadata("address1_country", .string, maxLength: 80),
            AttributeMetadata("description", .memo),
            AttributeMetadata("revenue", .money),
            AttributeMetadata("creditlimit", .money),
            AttributeMetadata("numberofemployees", .integer),
            AttributeMetadata("exchangerate", .decimal),
            AttributeMetadata("donotemail", .boolean),
            AttributeMetadata("lastonholdtime", .datetime),
            AttributeMetadata("primarycontactid", .lookup, targets: ["contact"]),
            AttributeMetadata("parentaccountid", .lookup, targets: ["account"]),
            AttributeMetadata(
                "industrycode",
                .picklist,
                options: [
                    OptionMetadata(1, "Accounting"),
                    OptionMetadata(2, "Agriculture and Non-petrol Natural Resource Extraction"),
                    OptionMetadata(3, "Broadcasting Printing and Publishing"), OptionMetadata(4, "Brokers"),
                    OptionMetadata(5, "Building Supply Retail"), OptionMetadata(6, "Business Services"),
                    OptionMetadata(7, "Consulting"), OptionMetadata(8, "Consumer Services"),
                ]
            ),
            AttributeMetadata(
                "customertypecode",
                .picklist,
                options: [
                    OptionMetadata(1, "Competitor"), OptionMetadata(2, "Consultant"), OptionMetadata(3, "Customer"),
                    OptionMetadata(4, "Investor"), OptionMetadata(5, "Partner"), OptionMetadata(6, "Influencer"),
                ]
            ),
        ]
    )

    public static let contact = EntityMetadata(
        logicalName: "contact",
        entitySetName: "contacts",
        displayName: "Contact",
        primaryNameAttribute: "fullname",
        primaryNameMaxLength: 160,
        columns: [
            AttributeMetadata("firstname", .string, maxLength: 50),
            AttributeMetadata("lastname", .string, maxLength: 50),
            AttributeMetadata("yomifullname", .string, maxLength: 450, isReadOnly: true),
            AttributeMetadata("emailaddress1", .string, maxLength: 100),
            AttributeMetadata("telephone1", .string, maxLength: 50),
            AttributeMetadata("jobtitle", .string, maxLength: 100),
            AttributeMetadata("address1_city", .string, maxLength: 80),
            AttributeMetadata("description", .memo),
            AttributeMetadata("birthdate", .datetime),
            AttributeMetadata("annualincome", .money),
            AttributeMetadata("numberofchildren", .integer),
            AttributeMetadata("donotemail", .boolean),
            AttributeMetadata("parentcustomerid", .customer, targets: ["account", "contact"]),
            AttributeMetadata(
                "gendercode",
                .picklist,
                options: [OptionMetadata(1, "Male"), OptionMetadata(2, "Female")]
            ),
            AttributeMetadata(
                "preferredcontactmethodcode",
                .picklist,
                options: [
                    OptionMetadata(1, "Any"), OptionMetadata(2, "Email"), OptionMetadata(3, "Phone"),
                    OptionMetadata(4, "Fax"), OptionMetadata(5, "Mail"),
                ]
            ),
        ]
    )

    public static let sdkmessage = EntityMetadata(
        logicalName: "sdkmessage",
        entitySetName: "sdkmessages",
        displayName: "Sdk Message",
        primaryNameMaxLength: 256,
        ownership: .organizationOwned,
        columns: [
            AttributeMetadata("categoryname", .string, maxLength: 25),
            AttributeMetadata("isprivate", .boolean),
            AttributeMetadata("isactive", .boolean),
            AttributeMetadata("customizationlevel", .integer),
        ]
    )

    public static let sdkmessagefilter = EntityMetadata(
        logicalName: "sdkmessagefilter",
        entitySetName: "sdkmessagefilters",
        displayName: "Sdk Message Filter",
        primaryNameMaxLength: 256,
        ownership: .organizationOwned,
        columns: [
            AttributeMetadata("sdkmessageid", .lookup, targets: ["sdkmessage"]),
            AttributeMetadata("primaryobjecttypecode", .string, maxLength: 100),
            AttributeMetadata("secondaryobjecttypecode", .string, maxLength: 100),
            AttributeMetadata("iscustomprocessingstepallowed", .boolean),
            AttributeMetadata("isvisible", .boolean),
        ]
    )

    public static let plugintype = EntityMetadata(
        logicalName: "plugintype",
        entitySetName: "plugintypes",
        displayName: "Plug-in Type",
        primaryNameMaxLength: 256,
        ownership: .organizationOwned,
        columns: [
            AttributeMetadata("typename", .string, maxLength: 256),
            AttributeMetadata("friendlyname", .string, maxLength: 256),
            AttributeMetadata("assemblyname", .string, maxLength: 100),
            AttributeMetadata("isworkflowactivity", .boolean),
            AttributeMetadata("description", .memo),
            AttributeMetadata("pluginassemblyid", .lookup, targets: ["pluginassembly"]),
        ]
    )

    public static let sdkmessageprocessingstep = EntityMetadata(
        logicalName: "sdkmessageprocessingstep",
        entitySetName: "sdkmessageprocessingsteps",
        displayName: "Sdk Message Processing Step",
        primaryNameMaxLength: 256,
        ownership: .organizationOwned,
        states: [OptionMetadata(0, "Enabled"), OptionMetadata(1, "Disabled")],
        statuses: [OptionMetadata(1, "Enabled", state: 0), OptionMetadata(2, "Disabled", state: 1)],
        columns: [
            AttributeMetadata(
                "stage",
                .picklist,
                options: [
                    OptionMetadata(5, "Initial Pre-operation (For internal use only)"),
                    OptionMetadata(10, "Pre-validation"),
                    OptionMetadata(15, "Internal Pre-operation Before External Plugins (For internal use only)"),
                    OptionMetadata(20, "Pre-operation"),
                    OptionMetadata(25, "Internal Pre-operation After External Plugins (For internal use only)"),
                    OptionMetadata(30, "Main Operation (For internal use only)"),
                    OptionMetadata(35, "Internal Post-operation Before External Plugins (For internal use only)"),
                    OptionMetadata(40, "Post-operation"),
                    OptionMetadata(45, "Internal Post-operation After External Plugins (For internal use only)"),
                    OptionMetadata(50, "Post-operation (Deprecated)"),
                    OptionMetadata(55, "Final Post-operation (For internal use only)"),
                    OptionMetadata(80, "Pre-Commit stage fired before transaction commit (For internal use only)"),
                    OptionMetadata(90, "Post-Commit stage fired after transaction commit (For internal use only)"),
                ]
            ),
            AttributeMetadata(
                "mode",
                .picklist,
                options: [OptionMetadata(0, "Synchronous"), OptionMetadata(1, "Asynchronous")]
            ),
            AttributeMetadata("rank", .integer, displayName: "Execution Order"),
            AttributeMetadata("filteringattributes", .memo, maxLength: 100_000),
            AttributeMetadata("asyncautodelete", .boolean),
            AttributeMetadata(
                "supporteddeployment",
                .picklist,
                options: [
                    OptionMetadata(0, "Server Only"),
                    OptionMetadata(1, "Microsoft Dynamics 365 Client for Outlook Only"), OptionMetadata(2, "Both"),
                ]
            ),
            AttributeMetadata("eventhandler", .lookup, targets: ["plugintype", "serviceendpoint"]),
            AttributeMetadata("plugintypeid", .lookup, targets: ["plugintype"]),
            AttributeMetadata("sdkmessageid", .lookup, targets: ["sdkmessage"]),
            AttributeMetadata("sdkmessagefilterid", .lookup, targets: ["sdkmessagefilter"]),
            AttributeMetadata("configuration", .memo, maxLength: 1_073_741_823),
            AttributeMetadata("impersonatinguserid", .lookup, targets: ["systemuser"]),
            AttributeMetadata(
                "invocationsource",
                .picklist,
                options: [OptionMetadata(-1, "Internal"), OptionMetadata(0, "Parent"), OptionMetadata(1, "Child")]
            ),
            AttributeMetadata("description", .memo, maxLength: 256),
        ]
    )

    public static let sdkmessageprocessingstepimage = EntityMetadata(
        logicalName: "sdkmessageprocessingstepimage",
        entitySetName: "sdkmessageprocessingstepimages",
        displayName: "Sdk Message Processing Step Image",
        primaryNameMaxLength: 256,
        ownership: .organizationOwned,
        columns: [
            AttributeMetadata(
                "imagetype",
                .picklist,
                options: [OptionMetadata(0, "PreImage"), OptionMetadata(1, "PostImage"), OptionMetadata(2, "Both")]
            ),
            AttributeMetadata("entityalias", .string, maxLength: 256),
            AttributeMetadata("messagepropertyname", .string, maxLength: 256),
            AttributeMetadata("attributes", .memo, maxLength: 100_000),
            AttributeMetadata("relatedattributename", .string, maxLength: 256),
            AttributeMetadata("sdkmessageprocessingstepid", .lookup, targets: ["sdkmessageprocessingstep"]),
            AttributeMetadata("description", .memo, maxLength: 256),
        ]
    )

    public static let serviceendpoint = EntityMetadata(
        logicalName: "serviceendpoint",
        entitySetName: "serviceendpoints",
        displayName: "Service Endpoint",
        primaryNameMaxLength: 256,
        ownership: .organizationOwned,
        columns: [
            AttributeMetadata(
                "contract",
                .picklist,
                options: [
                    OptionMetadata(1, "OneWay"), OptionMetadata(2, "Queue"), OptionMetadata(3, "Rest"),
                    OptionMetadata(4, "TwoWay"), OptionMetadata(5, "Topic"), OptionMetadata(6, "Queue (Persistent)"),
                    OptionMetadata(7, "Event Hub"), OptionMetadata(8, "Webhook"), OptionMetadata(9, "Event Grid"),
                    OptionMetadata(10, "Managed Data Lake"),
                ]
            ),
            AttributeMetadata(
                "authtype",
                .picklist,
                options: [
                    OptionMetadata(1, "ACS"), OptionMetadata(2, "SAS Key"), OptionMetadata(3, "SAS Token"),
                    OptionMetadata(4, "Webhook Key"), OptionMetadata(5, "Http Header"),
                    OptionMetadata(6, "Http Query String"), OptionMetadata(7, "Connection String"),
                    OptionMetadata(8, "Access Key"),
                ]
            ),
            AttributeMetadata(
                "messageformat",
                .picklist,
                options: [OptionMetadata(1, "Binary XML"), OptionMetadata(2, "Json"), OptionMetadata(3, "Text XML")]
            ),
            AttributeMetadata(
                "userclaim",
                .picklist,
                options: [OptionMetadata(1, "None"), OptionMetadata(2, "UserId"), OptionMetadata(3, "UserInfo")]
            ),
            AttributeMetadata(
                "connectionmode",
                .picklist,
                options: [OptionMetadata(1, "Normal"), OptionMetadata(2, "Federated")]
            ),
            AttributeMetadata(
                "namespaceformat",
                .picklist,
                options: [OptionMetadata(1, "Namespace Name"), OptionMetadata(2, "Namespace Address")]
            ),
            AttributeMetadata(
                "messagecharset",
                .picklist,
                options: [OptionMetadata(0, "Default"), OptionMetadata(1, "UTF8")]
            ),
            AttributeMetadata("description", .memo, maxLength: 2000),
            AttributeMetadata("solutionnamespace", .string, maxLength: 160),
            AttributeMetadata("namespaceaddress", .string, maxLength: 255),
            AttributeMetadata("path", .string, maxLength: 160),
            AttributeMetadata("url", .string, maxLength: 2000),
            AttributeMetadata("authvalue", .string, maxLength: 2048, isValidForRead: false),
            AttributeMetadata("saskeyname", .string, maxLength: 256),
            AttributeMetadata("saskey", .string, maxLength: 256, isValidForRead: false),
            // Azure SAS tokens run to about 200 characters; Dataverse allows 256.
            AttributeMetadata("sastoken", .string, maxLength: 256, isValidForRead: false),
            AttributeMetadata("isauthvalueset", .boolean, isReadOnly: true),
            AttributeMetadata("issaskeyset", .boolean, isReadOnly: true),
            AttributeMetadata("issastokenset", .boolean, isReadOnly: true),
        ]
    )

    public static let asyncoperation = EntityMetadata(
        logicalName: "asyncoperation",
        entitySetName: "asyncoperations",
        displayName: "System Job",
        primaryNameMaxLength: 256,
        states: [
            OptionMetadata(0, "Ready"), OptionMetadata(1, "Suspended"), OptionMetadata(2, "Locked"),
            OptionMetadata(3, "Completed"),
        ],
        statuses: [
            OptionMetadata(0, "Waiting For Resources", state: 0), OptionMetadata(10, "Waiting", state: 1),
            OptionMetadata(20, "In Progress", state: 2), OptionMetadata(21, "Pausing", state: 2),
            OptionMetadata(22, "Canceling", state: 2), OptionMetadata(30, "Succeeded", state: 3),
            OptionMetadata(31, "Failed", state: 3), OptionMetadata(32, "Canceled", state: 3),
        ],
        columns: [
            AttributeMetadata(
                "operationtype",
                .picklist,
                options: [
                    OptionMetadata(1, "System Event"), OptionMetadata(2, "Bulk Email"), OptionMetadata(10, "Workflow"),
                    OptionMetadata(54, "Execute Async Request"),
                ]
            ),
            AttributeMetadata("messagename", .string, maxLength: 160),
            AttributeMetadata("primaryentitytype", .string, maxLength: 64),
            AttributeMetadata("regardingobjectid", .lookup, targets: []),
            AttributeMetadata("owningextensionid", .lookup, targets: ["sdkmessageprocessingstep"]),
            AttributeMetadata("correlationid", .uniqueidentifier),
            AttributeMetadata("depth", .integer),
            AttributeMetadata("requestid", .uniqueidentifier),
            AttributeMetadata("data", .memo, maxLength: 1_073_741_823),
            AttributeMetadata("retrycount", .integer),
            AttributeMetadata("errorcode", .integer),
            AttributeMetadata("message", .memo, maxLength: 100_000),
            AttributeMetadata("friendlymessage", .memo, maxLength: 100_000),
            AttributeMetadata("postponeuntil", .datetime),
            AttributeMetadata("startedon", .datetime),
            AttributeMetadata("completedon", .datetime),
            AttributeMetadata("executiontimespan", .double),
            AttributeMetadata("sequence", .bigint),
            AttributeMetadata("hostid", .string, maxLength: 256),
            // Conduit's: until when the node in `hostid` holds the job; after that another node may take it.
            AttributeMetadata("conduit_leaseexpireson", .datetime),
            // Conduit's: the W3C trace context of the request that wrote the job, for the messages it posts.
            AttributeMetadata("conduit_traceparent", .string, maxLength: 55),
            // Conduit's: the answer of a two-way or REST relay listener to the job's post (up to 100,000 characters).
            AttributeMetadata("conduit_response", .memo, maxLength: 100_000),
            // The workflow a workflow job (operationtype 10) runs.
            AttributeMetadata("workflowactivationid", .lookup, targets: ["workflow"]),
            // Conduit's: how far a workflow job got (activities done, branches taken, variables), to resume there.
            AttributeMetadata("conduit_workflowstate", .memo, maxLength: 1_073_741_823),
            // Conduit's: one JSON line per run (start, end, outcome, error), the run history the console shows.
            AttributeMetadata("conduit_attempts", .memo, maxLength: 1_073_741_823, isReadOnly: true),
        ]
    )
}
