## auditor pages
auditor-filter-actor = المنفذ (اسم المستخدم)
auditor-filter-subject = الملف
auditor-filter-subject-hint = معرف أسرة أو شخص
auditor-filter-kind = نوع التغيير
auditor-filter-kind-hint = مثلا household.update
auditor-filter-from = من
auditor-filter-to = إلى
auditor-filter-apply = تصفية
auditor-trail-title = سجل التدقيق
auditor-trail-intro = كل تغيير في السجل، مع منفذه وتاريخه وسببه، حسب ترتيب السجل الموقع.
auditor-trail-scanned = { $n ->
    [zero] لم تتم قراءة أي حدث لهذه الصفحة
    [one] تمت قراءة حدث واحد لهذه الصفحة
    [two] تمت قراءة حدثين لهذه الصفحة
    [few] تمت قراءة { $count } أحداث لهذه الصفحة
   *[other] تمت قراءة { $count } حدثا لهذه الصفحة
}
auditor-none = لا يوجد أي سطر يطابق هذه المعايير.
auditor-col-seq = الرقم
auditor-col-at = التاريخ
auditor-col-actor = المنفذ
auditor-col-action = العملية
auditor-col-subject = الملف
auditor-col-reason = السبب
auditor-col-hash = البصمة
auditor-col-purpose = غرض الاطلاع
auditor-pending = في انتظار الإدماج
auditor-access-title = سجل الاطلاع
auditor-access-intro = من اطلع على أي معطيات شخصية، ومتى ولماذا.
auditor-chain-title = التحقق من سجل التدقيق
auditor-chain-intact = { $n ->
    [one] السجل سليم: تم التحقق من حدث واحد، ولم يتم تعديل أو حذف أو نقل أي حدث.
   *[other] السجل سليم: تم التحقق من { $count } حدث، ولم يتم تعديل أو حذف أو نقل أي حدث.
}
auditor-chain-broken = السجل غير سليم: تم تعديل حدث أو حذفه أو نقله بعد وقوعه.
auditor-chain-problem = أول مشكل تم رصده
auditor-chain-checked-at = تاريخ التحقق
auditor-chain-events = الأحداث التي تم التحقق منها
auditor-chain-tree = أوراق شجرة ميركل
auditor-chain-root = الجذر المعاد حسابه
auditor-chain-heads = رؤوس الشجرة الموقعة التي تم التحقق منها
auditor-chain-unkeyed = لم يتم التحقق من التوقيعات: مفتاح التدقيق غير موجود على هذا الخادم
auditor-chain-chained = أحداث السلسلة القديمة
auditor-chain-pending = أحداث مسجلة في انتظار الإدماج
auditor-chain-pending-since = أقدمها منذ { $since }
auditor-chain-explain = يعيد التحقق حساب الشجرة انطلاقا من كل حدث ويقارنها بالرؤوس الموقعة: سطر واحد مزور في قاعدة البيانات يكفي لإفشاله.
auditor-chain-again = التحقق مجددا
